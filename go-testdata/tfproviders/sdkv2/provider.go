package main

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// New returns the provider "sdkv2test": no provider configuration, two managed
// resources (sdkv2test_null, sdkv2test_id) and one data source (sdkv2test_echo).
func New() *schema.Provider {
	return &schema.Provider{
		ResourcesMap: map[string]*schema.Resource{
			"sdkv2test_null": resourceNull(),
			"sdkv2test_id":   resourceID(),
		},
		DataSourcesMap: map[string]*schema.Resource{
			"sdkv2test_echo": dataSourceEcho(),
		},
	}
}
