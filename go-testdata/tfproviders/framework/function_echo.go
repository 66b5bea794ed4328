package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/function"
)

// echoFunction is provider::frameworktest::echo(input string) string: it
// returns its argument unchanged.
type echoFunction struct{}

func newEchoFunction() function.Function {
	return echoFunction{}
}

func (echoFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "echo"
}

func (echoFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary:     "Returns its argument",
		Description: "Returns the given string unchanged.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "input", Description: "Any string."},
		},
		Return: function.StringReturn{},
	}
}

func (echoFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var input string
	resp.Error = req.Arguments.Get(ctx, &input)
	if resp.Error != nil {
		return
	}
	resp.Error = resp.Result.Set(ctx, input)
}
