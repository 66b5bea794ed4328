package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// dataSourceEcho returns its input: `output` equals `input` and `id` is
// "echo:" + input (never empty, so the SDK keeps the state even for "").
func dataSourceEcho() *schema.Resource {
	return &schema.Resource{
		Description: "Echoes its input.",
		ReadContext: echoRead,
		Schema: map[string]*schema.Schema{
			"input":  {Type: schema.TypeString, Required: true, Description: "Any string."},
			"output": {Type: schema.TypeString, Computed: true, Description: "The same string."},
		},
	}
}

func echoRead(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	in := d.Get("input").(string)
	if err := d.Set("output", in); err != nil {
		return diag.Errorf("setting output: %s", err)
	}
	d.SetId("echo:" + in)
	return nil
}
