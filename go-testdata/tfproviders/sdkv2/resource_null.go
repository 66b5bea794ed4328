package main

import (
	"context"
	"crypto/rand"
	"math/big"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// resourceNull does nothing but hold an id: a random decimal string chosen at
// create time. Changing any of `triggers` forces a replacement (a new id).
func resourceNull() *schema.Resource {
	return &schema.Resource{
		Description:   "A resource that does nothing; replaced whenever its triggers change.",
		CreateContext: nullCreate,
		ReadContext:   nullRead,
		DeleteContext: nullDelete,
		Schema: map[string]*schema.Schema{
			"triggers": {
				Description: "Arbitrary strings; any change replaces the resource.",
				Type:        schema.TypeMap,
				Optional:    true,
				ForceNew:    true,
				Elem:        &schema.Schema{Type: schema.TypeString},
			},
		},
	}
}

func nullCreate(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return diag.Errorf("reading random bytes for the id: %s", err)
	}
	d.SetId(n.String())
	return nil
}

func nullRead(context.Context, *schema.ResourceData, interface{}) diag.Diagnostics {
	return nil
}

func nullDelete(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	d.SetId("")
	return nil
}
