package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// frameworkTest is the provider "frameworktest". Its only setting, `endpoint`,
// is handed to the data source, which reports it back; that shows whether
// ConfigureProvider reached the provider.
type frameworkTest struct{}

var _ provider.ProviderWithFunctions = (*frameworkTest)(nil)

// New returns a fresh provider; the framework calls it once per server.
func New() provider.Provider {
	return &frameworkTest{}
}

// providerData is what Configure passes on to data sources and resources.
type providerData struct {
	Endpoint types.String
}

type providerModel struct {
	Endpoint types.String `tfsdk:"endpoint"`
}

func (p *frameworkTest) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "frameworktest"
	resp.Version = "0.1.0"
}

func (p *frameworkTest) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Test provider for the go-plugin Rust crate.",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Description: "Any string; the data source frameworktest_example reports it back.",
				Optional:    true,
			},
		},
	}
}

func (p *frameworkTest) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := &providerData{Endpoint: cfg.Endpoint}
	resp.DataSourceData = data
	resp.ResourceData = data
}

func (p *frameworkTest) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{newExampleDataSource}
}

func (p *frameworkTest) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{newExampleResource}
}

func (p *frameworkTest) Functions(context.Context) []func() function.Function {
	return []func() function.Function{newEchoFunction}
}
