DROP TABLE webhook_subjects;
DROP TABLE webhook_events;
