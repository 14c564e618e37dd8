package delivery

import (
	"fmt"

	"github.com/canalco/infra/security"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// administratorAccess is AWS's managed full-access policy. Administrators get it through the
// group only, and only in sessions signed in with MFA (requireMFA).
const administratorAccess = "arn:aws:iam::aws:policy/AdministratorAccess"

// ownUser is the signed-in IAM user, as a policy variable.
const ownUser = "arn:aws:iam::*:user/${aws:username}"

// mfaSetup is what a user without an MFA session may still do: set up their own MFA device,
// read who they are, change their own password (the console asks on first sign-in) and
// get an MFA session for the CLI.
var mfaSetup = []string{
	"iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ResyncMFADevice", "iam:GetMFADevice",
	"iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:GetUser", "iam:ChangePassword",
	"iam:GetAccountPasswordPolicy", "sts:GetSessionToken",
}

// requireMFA is AWS's documented pattern "Allows MFA-authenticated IAM users to manage their
// own MFA device on the Security credentials page", plus ChangePassword for the first
// sign-in, and a deny that keeps the remaining actions on the user's own identity.
func requireMFA() []security.Statement {
	noMFA := func(st security.Statement) security.Statement {
		return with(st, "BoolIfExists", "aws:MultiFactorAuthPresent", "false")
	}
	othersWithoutMFA := except(deny("NoOtherUsersWithoutMFA", []string{
		"iam:EnableMFADevice", "iam:ResyncMFADevice", "iam:GetMFADevice", "iam:ListMFADevices", "iam:GetUser", "iam:ChangePassword",
	}), ownUser)
	allWithoutMFA := security.Statement{Sid: "DenyAllExceptListedIfNoMFA", Effect: "Deny", NotAction: mfaSetup, Resource: []string{everything}}
	return []security.Statement{
		allow("AllowViewAccountInfo", []string{"iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"}, everything),
		allow("AllowManageOwnVirtualMFADevice", []string{"iam:CreateVirtualMFADevice"}, "arn:aws:iam::*:mfa/*"),
		allow("AllowManageOwnUserMFA", []string{
			"iam:EnableMFADevice", "iam:ResyncMFADevice", "iam:GetMFADevice", "iam:ListMFADevices",
			"iam:DeactivateMFADevice", "iam:GetUser", "iam:ChangePassword",
		}, ownUser),
		noMFA(othersWithoutMFA),
		noMFA(allWithoutMFA),
	}
}

// newAdmins creates the administrators group: full access, in MFA sessions only. Humans are
// added by hand (docs/identities.md); no pipeline may change the group (deployGuards).
func newAdmins(ctx *pulumi.Context, d *Delivery, prefix string) error {
	name := prefix + "-admins"
	group, err := iam.NewGroup(ctx, name, &iam.GroupArgs{Name: pulumi.String(name)}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	// The guard is never replaced, so the group never holds AdministratorAccess without it: no
	// description (a new one forces a replacement, and deleting the guard first would leave
	// the group unguarded), content changes are new policy versions. Stacks created with a
	// description keep it: ignoring the field spares them a replacement.
	mfa, err := iam.NewPolicy(ctx, name+"-require-mfa", &iam.PolicyArgs{
		Name:   pulumi.String(name + "-require-mfa"),
		Policy: pulumi.String(security.Document(requireMFA()...)),
	}, pulumi.Parent(d), pulumi.IgnoreChanges([]string{"description"}))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	guard, err := iam.NewGroupPolicyAttachment(ctx, name+"-require-mfa", &iam.GroupPolicyAttachmentArgs{
		Group: group.Name, PolicyArn: mfa.Arn,
	}, pulumi.Parent(d))
	if err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	// The MFA guard is in place before the group gets any rights.
	if _, err := iam.NewGroupPolicyAttachment(ctx, name+"-administrator-access", &iam.GroupPolicyAttachmentArgs{
		Group: group.Name, PolicyArn: pulumi.String(administratorAccess),
	}, pulumi.Parent(d), pulumi.DependsOn([]pulumi.Resource{guard})); err != nil {
		return fmt.Errorf("delivery: %w", err)
	}
	d.AdminsGroupName = group.Name
	return nil
}
