# A user, by the id that Supabase Auth puts in the JWT `sub` claim.
resource "alfred_rbac_role_assignment" "alice_analyst" {
  principal = "6f1c2d4e-0000-4000-8000-000000000001"
  role      = alfred_rbac_role.analyst.name
}

# An agent, by its service account: matches the verified `email` claim of its Google-signed ID token.
resource "alfred_rbac_role_assignment" "social_intel_viewer" {
  principal = "serviceAccount:social-intel@alfred-prod.iam.gserviceaccount.com"
  role      = alfred_rbac_role.viewer.name
}
