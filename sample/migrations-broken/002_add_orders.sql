-- References a table that does not exist: the migration fails and the deploy must not run.
CREATE INDEX orders_by_customer ON order(customer_id);
