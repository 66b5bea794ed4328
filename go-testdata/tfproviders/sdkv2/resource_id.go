package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"

	"github.com/hashicorp/terraform-plugin-sdk/v2/diag"
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
)

// resourceID holds `byte_length` random bytes. The id is the bytes in
// unpadded URL-safe base64; `hex`, `b64_std`, `b64_url` and `dec` are other
// encodings of the same bytes, each preceded by `prefix`. Import takes either
// "ID" or "PREFIX,ID".
func resourceID() *schema.Resource {
	return &schema.Resource{
		Description:   "Random bytes shown in several encodings.",
		CreateContext: idCreate,
		ReadContext:   idRead,
		DeleteContext: idDelete,
		Importer:      &schema.ResourceImporter{StateContext: idImport},
		Schema: map[string]*schema.Schema{
			"byte_length": {
				Description: "How many random bytes to produce (at least 1).",
				Type:        schema.TypeInt,
				Required:    true,
				ForceNew:    true,
			},
			"prefix": {
				Description: "Text put in front of hex, b64_std, b64_url and dec (not of id).",
				Type:        schema.TypeString,
				Optional:    true,
				ForceNew:    true,
			},
			"hex":     {Type: schema.TypeString, Computed: true, Description: "prefix + lowercase hex"},
			"b64_std": {Type: schema.TypeString, Computed: true, Description: "prefix + padded standard base64"},
			"b64_url": {Type: schema.TypeString, Computed: true, Description: "prefix + unpadded URL-safe base64"},
			"dec":     {Type: schema.TypeString, Computed: true, Description: "prefix + the bytes as a big-endian decimal"},
		},
	}
}

func idCreate(ctx context.Context, d *schema.ResourceData, meta interface{}) diag.Diagnostics {
	n := d.Get("byte_length").(int)
	if n < 1 {
		return diag.Errorf("byte_length must be at least 1, got %d", n)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return diag.Errorf("reading %d random bytes: %s", n, err)
	}
	d.SetId(base64.RawURLEncoding.EncodeToString(b))
	return idRead(ctx, d, meta)
}

// idRead derives every encoding from the id and the prefix.
func idRead(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	b, err := base64.RawURLEncoding.DecodeString(d.Id())
	if err != nil {
		return diag.Errorf("id %q is not unpadded URL-safe base64: %s", d.Id(), err)
	}
	prefix := d.Get("prefix").(string)
	values := map[string]interface{}{
		"byte_length": len(b),
		"hex":         prefix + hex.EncodeToString(b),
		"b64_std":     prefix + base64.StdEncoding.EncodeToString(b),
		"b64_url":     prefix + base64.RawURLEncoding.EncodeToString(b),
		"dec":         prefix + new(big.Int).SetBytes(b).String(),
	}
	for k, v := range values {
		if err := d.Set(k, v); err != nil {
			return diag.Errorf("setting %s: %s", k, err)
		}
	}
	return nil
}

func idDelete(_ context.Context, d *schema.ResourceData, _ interface{}) diag.Diagnostics {
	d.SetId("")
	return nil
}

// idImport accepts "ID" or "PREFIX,ID"; Read then fills in the rest.
func idImport(_ context.Context, d *schema.ResourceData, _ interface{}) ([]*schema.ResourceData, error) {
	id := d.Id()
	if prefix, rest, ok := strings.Cut(id, ","); ok {
		if err := d.Set("prefix", prefix); err != nil {
			return nil, err
		}
		id = rest
	}
	if _, err := base64.RawURLEncoding.DecodeString(id); err != nil {
		return nil, fmt.Errorf("import id %q: want ID or PREFIX,ID where ID is unpadded URL-safe base64: %w", d.Id(), err)
	}
	d.SetId(id)
	return []*schema.ResourceData{d}, nil
}
