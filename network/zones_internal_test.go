package network

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The answers are shaped like DescribeInstanceTypeOfferings with --location-type
// availability-zone: parallel lists of type and zone (EC2 API Reference).
func TestMissingOfferings(t *testing.T) {
	types, zones := []string{"t3.medium", "t3a.medium"}, []string{"us-east-1a", "us-east-1e"}
	for _, c := range []struct {
		name              string
		offered, location []string
		want              []string
	}{
		{"every type in every zone", []string{"t3.medium", "t3a.medium", "t3.medium", "t3a.medium"}, []string{"us-east-1a", "us-east-1a", "us-east-1e", "us-east-1e"}, nil},
		{"a zone without the sibling type", []string{"t3.medium", "t3a.medium", "t3.medium"}, []string{"us-east-1a", "us-east-1a", "us-east-1e"}, []string{"t3a.medium in us-east-1e"}},
		{"offered elsewhere only", []string{"t3.medium", "t3a.medium"}, []string{"us-east-1b", "us-east-1b"},
			[]string{"t3.medium in us-east-1a", "t3.medium in us-east-1e", "t3a.medium in us-east-1a", "t3a.medium in us-east-1e"}},
		{"an empty answer", nil, nil, []string{"t3.medium in us-east-1a", "t3.medium in us-east-1e", "t3a.medium in us-east-1a", "t3a.medium in us-east-1e"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, missingOfferings(types, zones, c.offered, c.location))
		})
	}
}
