package platform

import "github.com/canalco/infra/delivery"

func (p *platform) deployDelivery() error {
	var err error
	p.delivery, err = delivery.NewDelivery(p.ctx, p.env.Prefix, &delivery.DeliveryArgs{
		Env:      p.env,
		Settings: p.s.Delivery,
	}, p.opts...)
	return err
}
