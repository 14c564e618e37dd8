package main

import (
	"github.com/canalco/infra/platform"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func main() {
	pulumi.Run(platform.Deploy)
}
