package settings

import "regexp"

// Delivery is the identities CI/CD uses to deploy this stack.
type Delivery struct {
	// GithubRepository is owner/name of the repository allowed to deploy. Empty: no CI identities.
	GithubRepository string
	// GithubOidcProviderArn reuses an account's existing GitHub OIDC provider (there can be one
	// per account). Empty: this stack creates it.
	GithubOidcProviderArn string
}

var (
	repoPattern         = regexp.MustCompile(`^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$`)
	oidcProviderPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$`)
)

var deliverySection = section{
	keys: []Key{
		str("githubRepository", "owner/name of the GitHub repository whose workflows may deploy this stack. Empty: no CI roles.", func(s *Settings) *string { return &s.Delivery.GithubRepository }),
		str("githubOidcProviderArn", "Existing GitHub OIDC provider of the account. Empty: the stack creates one (setting it later deletes and replaces the stack's own).", func(s *Settings) *string { return &s.Delivery.GithubOidcProviderArn }),
	},
	validate: func(s *Settings, p *problems) {
		d := &s.Delivery
		if d.GithubRepository != "" && !repoPattern.MatchString(d.GithubRepository) {
			p.add("githubRepository", d.GithubRepository, "owner/name, such as canalco/infraestructura")
		}
		switch {
		case d.GithubOidcProviderArn == "":
		case !oidcProviderPattern.MatchString(d.GithubOidcProviderArn):
			p.add("githubOidcProviderArn", d.GithubOidcProviderArn, "an IAM OIDC provider ARN for token.actions.githubusercontent.com")
		case d.GithubRepository == "":
			// Only the pipeline roles use the provider: a stack without them has a stale value.
			p.add("githubOidcProviderArn", d.GithubOidcProviderArn, "empty while canalco:githubRepository is empty (no pipeline roles use it)")
		}
	},
}
