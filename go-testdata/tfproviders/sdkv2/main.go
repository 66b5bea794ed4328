// Command terraform-provider-sdkv2test is a small Terraform provider built on
// terraform-plugin-sdk/v2. It speaks tfplugin5 (protocol 5) through the SDK's
// own gRPC server, so the Rust Terraform host is tested against real SDK code.
//
// Run it the way Terraform does (handshake environment set, no arguments), or
// with -debug: the SDK then serves on its own, prints a TF_REATTACH_PROVIDERS
// line for reattaching, and runs until interrupted.
package main

import (
	"flag"

	"github.com/hashicorp/terraform-plugin-sdk/v2/plugin"
)

func main() {
	debug := flag.Bool("debug", false, "serve without a host and print the TF_REATTACH_PROVIDERS value")
	flag.Parse()

	plugin.Serve(&plugin.ServeOpts{
		ProviderFunc: New,
		ProviderAddr: "registry.terraform.io/gopluginrs/sdkv2test",
		Debug:        *debug,
	})
}
