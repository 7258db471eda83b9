DROP TABLE policy_documents;
DROP TABLE policy_revisions;
