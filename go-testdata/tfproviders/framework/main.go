// Command terraform-provider-frameworktest is a small Terraform provider built
// on terraform-plugin-framework. It speaks tfplugin6 (protocol 6) through the
// framework's own gRPC server, so the Rust Terraform host is tested against
// real framework code: provider configuration, a provider function, a data
// source and a managed resource.
//
// Run it the way Terraform does (handshake environment set, no arguments), or
// with -debug: the framework then serves on its own, prints a
// TF_REATTACH_PROVIDERS line for reattaching, and runs until interrupted.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
)

func main() {
	debug := flag.Bool("debug", false, "serve without a host and print the TF_REATTACH_PROVIDERS value")
	flag.Parse()

	err := providerserver.Serve(context.Background(), New, providerserver.ServeOpts{
		Address:         "registry.terraform.io/gopluginrs/frameworktest",
		Debug:           *debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err)
	}
}
