DROP TABLE change_log;
DROP TABLE revision_counter;
