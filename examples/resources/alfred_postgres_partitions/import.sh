# A partitioned table is imported by <schema>.<table>, or by <table> in schema public. An existing layout is
# adopted as it is: its interval is read from its partitions' bounds.
terraform import alfred_postgres_partitions.events public.events
terraform import alfred_postgres_partitions.events events
