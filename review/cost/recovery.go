package cost

import (
	"fmt"
	"strings"
)

// restoreHours is how long AWS Backup takes to restore a test copy: the duration alarm is at
// 45 minutes, so an hour bounds it. The copy then lives for the selection's validation window.
const restoreHours = 1.0

// restoreTests prices the monthly restore test: the copy's instance hours and storage for its
// lifetime, once a month.
func (p *pricer) restoreTests() {
	for _, sel := range p.x.OfType("aws:backup/restoreTestingSelection:RestoreTestingSelection") {
		hours := restoreHours + sel.Num("validationWindowHours")
		switch sel.Str("protectedResourceType") {
		case "RDS":
			class := sel.Str("restoreMetadataOverrides.dbInstanceClass")
			hourly, ok := RDSHourly[class]
			if !ok {
				p.add("RDS", sel.Name, "monthly restore test "+class+": no price in the table", 0)
				continue
			}
			gb := 0.0
			for _, db := range p.x.OfType("aws:rds/instance:Instance") {
				for _, arn := range sel.Strings("protectedResourceArns") {
					if strings.HasSuffix(arn, ":db:"+db.Str("identifier")) {
						gb = db.Num("allocatedStorage")
					}
				}
			}
			p.add("RDS", sel.Name, fmt.Sprintf("monthly restore test: %s single-AZ %.0f h × $%.3f + %.0f GB gp3 for %.0f h", class, hours, hourly, gb, hours),
				hours*hourly+gb*RDSGp3GBMonth*hours/HoursPerMonth)
		case "EBS":
			gb := 0.0
			for _, asg := range p.x.OfType("aws:autoscaling/group:Group") {
				if lt := p.x.LaunchTemplate(asg); lt != nil {
					gb += lt.Num("blockDeviceMappings.0.ebs.volumeSize")
				}
			}
			p.add("EBS", sel.Name, fmt.Sprintf("monthly restore test: %.0f GB gp3 for %.0f h", gb, hours), gb*EBSGp3GBMonth*hours/HoursPerMonth)
		}
	}
}
