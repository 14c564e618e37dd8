package platform

import "github.com/canalco/infra/data"

func (p *platform) deployData() error {
	var err error
	p.db, err = data.NewDatabase(p.ctx, p.env.Prefix, &data.DatabaseArgs{
		Env:             p.env,
		Settings:        p.s.Database,
		SubnetGroupName: p.net.DBSubnetGroupName,
		SecurityGroupID: p.net.DatabaseSecurityGroupID,
		Office:          p.s.Compute.Office,
		// The foundation's default tags, for the provider of the backup copy's region.
	}, p.opts...)
	return err
}
