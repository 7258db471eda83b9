DROP TABLE subscriptions;
DROP TABLE row_policies;
DROP TABLE mask_policies;
DROP TABLE datasources;
