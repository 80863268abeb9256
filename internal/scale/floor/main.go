// Command floor is the smallest terraform-plugin-framework provider that can hold resources: one resource
// type whose Create and Update copy the plan into state and whose Read and Delete do nothing. It makes no
// call to anything, so the time Terraform takes to plan and apply N of its resources is Terraform's own
// floor, against which the scale benchmark (internal/scale) sets the alfred provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Address is the floor provider's source address in the benchmark's configurations.
const Address = "registry.terraform.io/alfred-bench/floor"

func main() {
	debug := flag.Bool("debug", false, "serve for TF_REATTACH_PROVIDERS (prints the reattach configuration)")
	flag.Parse()
	err := providerserver.Serve(context.Background(), func() provider.Provider { return floorProvider{} },
		providerserver.ServeOpts{Address: Address, Debug: *debug, ProtocolVersion: 6})
	if err != nil {
		log.Fatal(err)
	}
}

type floorProvider struct{}

func (floorProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "floor"
}

func (floorProvider) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}

func (floorProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (floorProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return itemResource{} }}
}

func (floorProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

var _ resource.Resource = itemResource{}

// itemResource is floor_item: a name, a value and a map, like a small real resource; id is the name.
type itemResource struct{}

type itemModel struct {
	ID     types.String `tfsdk:"id"`
	Name   types.String `tfsdk:"name"`
	Value  types.String `tfsdk:"value"`
	Labels types.Map    `tfsdk:"labels"`
}

func (itemResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_item"
}

func (itemResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":     schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"name":   schema.StringAttribute{Required: true},
		"value":  schema.StringAttribute{Optional: true},
		"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType},
	}}
}

func (itemResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m itemModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	m.ID = m.Name
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// Read does nothing: the state stays as it is, which is the least any provider can do on a refresh.
func (itemResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (itemResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m itemModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (itemResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
