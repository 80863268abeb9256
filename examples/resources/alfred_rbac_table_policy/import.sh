# A table policy is imported by <schema>.<table>...
terraform import alfred_rbac_table_policy.task_results public.task_results

# ...or by the long form naming the provider's table.
terraform import alfred_rbac_table_policy.task_results alfred_rbac.table_policies/public.task_results
