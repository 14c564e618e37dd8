package network

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// checkOfferings stops the program before the VPC exists when an instance type the backend
// may launch is not offered in one of the stack's AZs. AZ names map to different physical
// zones in each account, and not every zone offers every type (EC2 User Guide, "Instance type
// offerings"), so the account is asked at preview time rather than trusting a name.
func checkOfferings(ctx *pulumi.Context, n *Network, a *NetworkArgs) error {
	if len(a.InstanceTypes) == 0 {
		return nil
	}
	got, err := ec2.GetInstanceTypeOfferings(ctx, &ec2.GetInstanceTypeOfferingsArgs{
		LocationType: pulumi.StringRef("availability-zone"),
		Filters: []ec2.GetInstanceTypeOfferingsFilter{
			{Name: "location", Values: a.AvailabilityZones},
			{Name: "instance-type", Values: a.InstanceTypes},
		},
	}, pulumi.Parent(n))
	if err != nil {
		return err
	}
	if missing := missingOfferings(a.InstanceTypes, a.AvailabilityZones, got.InstanceTypes, got.Locations); len(missing) > 0 {
		return fmt.Errorf("not offered in this account: %s; set canalco:availabilityZones to AZs that offer them (`aws ec2 describe-instance-type-offerings --location-type availability-zone`)",
			strings.Join(missing, ", "))
	}
	return nil
}

// missingOfferings pairs the answer's parallel lists (type i is offered in location i) and
// returns every wanted "type in zone" the answer lacks.
func missingOfferings(types, zones, offeredTypes, offeredIn []string) []string {
	var missing []string
	for _, t := range types {
		for _, z := range zones {
			found := false
			for i := range offeredTypes {
				found = found || (offeredTypes[i] == t && i < len(offeredIn) && offeredIn[i] == z)
			}
			if !found && !slices.Contains(missing, t+" in "+z) {
				missing = append(missing, t+" in "+z)
			}
		}
	}
	return missing
}
