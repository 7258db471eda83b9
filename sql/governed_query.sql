-- name: MaskPolicyGet :one
SELECT * FROM mask_policies WHERE id = @id;

-- name: RowPolicyGet :one
SELECT * FROM row_policies WHERE id = @id;

-- name: SubscriptionGet :one
SELECT * FROM subscriptions WHERE id = @id;
