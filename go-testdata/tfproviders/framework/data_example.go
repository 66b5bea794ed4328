package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// exampleDataSource is frameworktest_example: `id` is always "example-id",
// `configurable_attribute` is passed through, and `endpoint` is the
// provider's configured endpoint (null when the provider block omits it).
type exampleDataSource struct {
	provider *providerData
}

var _ datasource.DataSourceWithConfigure = (*exampleDataSource)(nil)

func newExampleDataSource() datasource.DataSource {
	return &exampleDataSource{}
}

type exampleDataSourceModel struct {
	ConfigurableAttribute types.String `tfsdk:"configurable_attribute"`
	ID                    types.String `tfsdk:"id"`
	Endpoint              types.String `tfsdk:"endpoint"`
}

func (d *exampleDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_example"
}

func (d *exampleDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Example data source.",
		Attributes: map[string]schema.Attribute{
			"configurable_attribute": schema.StringAttribute{Optional: true, Description: "Passed through."},
			"id":                     schema.StringAttribute{Computed: true, Description: `Always "example-id".`},
			"endpoint":               schema.StringAttribute{Computed: true, Description: "The provider's endpoint setting."},
		},
	}
}

func (d *exampleDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if req.ProviderData == nil {
		return // not configured yet (ValidateDataResourceConfig runs before ConfigureProvider)
	}
	data, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T", req.ProviderData))
		return
	}
	d.provider = data
}

func (d *exampleDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m exampleDataSourceModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	m.ID = types.StringValue("example-id")
	m.Endpoint = types.StringNull()
	if d.provider != nil {
		m.Endpoint = d.provider.Endpoint
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
