package provider

// Address is the provider's registry source address. dev_overrides in a CLI configuration use the same.
const Address = "registry.terraform.io/alfred-platform/alfred"
