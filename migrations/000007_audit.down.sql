DROP FUNCTION audit_partitions_drop_before(date);
DROP FUNCTION audit_partition_days();
DROP FUNCTION audit_partition_create(date);
DROP TABLE audit_queries;
DROP TABLE audit_sampling;
DROP TABLE audit_decisions_staging;
DROP TABLE audit_decisions;
