package alerting

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	mon "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// createIDLabel is a user label the provider puts on every object it creates, with a random value, so
// that a create whose reply was lost (UNAVAILABLE, DEADLINE_EXCEEDED after the server applied it) is
// found by a List filter before it is tried again, never duplicated. It is hidden from user_labels.
// Underscore, not dash: Monitoring filter field names are identifiers.
const createIDLabel = "alfred_id"

// api is the adapter between the resources and the Cloud Monitoring API v3.
type monAPI struct {
	alerts   *mon.AlertPolicyClient
	channels *mon.NotificationChannelClient
	backoff  shared.Backoff
}

func newMonAPI(ctx context.Context, opts ...option.ClientOption) (*monAPI, error) {
	a, err := mon.NewAlertPolicyClient(ctx, opts...)
	if err != nil {
		return nil, err
	}
	shared.WithoutClientRetries(a.CallOptions)
	c, err := mon.NewNotificationChannelClient(ctx, opts...)
	if err != nil {
		_ = a.Close()
		return nil, err
	}
	shared.WithoutClientRetries(c.CallOptions)
	return &monAPI{alerts: a, channels: c, backoff: shared.DefaultBackoff}, nil
}

// monAPIFor returns the provider's Monitoring clients, built once per configured provider.
func monAPIFor(ctx context.Context, data *shared.ProviderData) (*monAPI, error) {
	c, err := data.Client("monitoring", func() (any, func(), error) {
		a, err := newMonAPI(ctx, data.GCP.ClientOptions(data.GCP.MonitoringEndpoint)...)
		if err != nil {
			return nil, nil, err
		}
		return a, func() { _ = a.alerts.Close(); _ = a.channels.Close() }, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*monAPI), nil
}

// monClientFor resolves the API client for a resource, reporting a missing gcp block.
func monClientFor(ctx context.Context, data *shared.ProviderData, typeName string, diags *diag.Diagnostics) *monAPI {
	if data == nil {
		diags.AddError("Provider not configured", "The alfred provider was not configured; this is a bug in the provider.")
		return nil
	}
	if !shared.Require(data, typeName, shared.BlockGCP, diags) {
		return nil
	}
	a, err := monAPIFor(ctx, data)
	if err != nil {
		diags.AddError("Could not build the Cloud Monitoring client", err.Error())
		return nil
	}
	return a
}

// projectLocks serialises alert policy writes per project within the provider process: Cloud Monitoring
// answers 409 ABORTED "Too many concurrent edits to the project configuration" to parallel writes, and
// Terraform runs 10 resources at a time by default.
var projectLocks sync.Map // project -> *sync.Mutex

func lockPolicyProject(project string) func() {
	m, _ := projectLocks.LoadOrStore(project, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

func newAlfredID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createPolicy creates p in project; a create whose reply may have been lost is found by p's createIDLabel.
func (a *monAPI) createPolicy(ctx context.Context, project string, p *monitoringpb.AlertPolicy) (*monitoringpb.AlertPolicy, error) {
	unlock := lockPolicyProject(project)
	defer unlock()
	return createChecked(ctx, a.backoff, func(ctx context.Context) (*monitoringpb.AlertPolicy, bool, error) {
		return firstOf(a.alerts.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{
			Name: "projects/" + project, Filter: labelFilter(p.UserLabels[createIDLabel])}).Next)
	}, func(ctx context.Context) (*monitoringpb.AlertPolicy, error) {
		return a.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: "projects/" + project, AlertPolicy: p})
	})
}

// labelFilter is the List filter of the object carrying createIDLabel id.
func labelFilter(id string) string { return fmt.Sprintf("user_labels.%s = %q", createIDLabel, id) }

// firstOf returns the first item of a listing, and whether there is one.
func firstOf[T any](next func() (T, error)) (T, bool, error) {
	v, err := next()
	if err == iterator.Done {
		return v, false, nil
	}
	return v, err == nil, err
}

func (a *monAPI) getPolicy(ctx context.Context, name string) (*monitoringpb.AlertPolicy, error) {
	var out *monitoringpb.AlertPolicy
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		var err error
		out, err = a.alerts.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: name})
		return err
	})
	return out, err
}

// updatePolicy sets the listed paths of p; repeating it is harmless, so every transient error is retried.
func (a *monAPI) updatePolicy(ctx context.Context, project string, p *monitoringpb.AlertPolicy, paths []string) (*monitoringpb.AlertPolicy, error) {
	unlock := lockPolicyProject(project)
	defer unlock()
	var out *monitoringpb.AlertPolicy
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		var err error
		out, err = a.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{AlertPolicy: p, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		return err
	})
	return out, err
}

// deletePolicy deletes name; NOT_FOUND (already gone, or a retry after a lost reply) is success.
func (a *monAPI) deletePolicy(ctx context.Context, project, name string) error {
	unlock := lockPolicyProject(project)
	defer unlock()
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		return a.alerts.DeleteAlertPolicy(ctx, &monitoringpb.DeleteAlertPolicyRequest{Name: name})
	})
	if shared.IsNotFound(err) {
		return nil
	}
	return err
}

// madeHere reports whether an object carries createIDLabel: this provider created it.
func madeHere(userLabels map[string]string) bool { _, ok := userLabels[createIDLabel]; return ok }

// madeByName is what the Monitoring objects this provider creates have in common: Monitoring names them.
type madeByName interface {
	GetName() string
	GetUserLabels() map[string]string
}

// unrecorded returns the name of an object of a listing that this provider created (it carries
// createIDLabel), or "": before a create, what an apply killed after its create and before Terraform
// recorded it leaves. Cloud Monitoring names policies and channels itself, so without this look the next
// apply would create a second one. list starts the listing anew for each attempt.
func unrecorded[T madeByName](ctx context.Context, b shared.Backoff, list func(context.Context) func() (T, error)) (string, error) {
	var name string
	err := shared.Retry(ctx, b, shared.RetryableGRPC, func(ctx context.Context) error {
		name = ""
		return drainFound(list(ctx), func(o T) bool {
			if madeHere(o.GetUserLabels()) {
				name = o.GetName()
			}
			return name != ""
		})
	})
	return name, err
}

// unrecordedPolicy is unrecorded for the alert policies of project named displayName.
func (a *monAPI) unrecordedPolicy(ctx context.Context, project, displayName string) (string, error) {
	return unrecorded(ctx, a.backoff, func(ctx context.Context) func() (*monitoringpb.AlertPolicy, error) {
		return a.alerts.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{
			Name: "projects/" + project, Filter: fmt.Sprintf("display_name = %q", displayName)}).Next
	})
}

// unrecordedChannel is unrecorded for the notification channels of project of one type named displayName.
func (a *monAPI) unrecordedChannel(ctx context.Context, project, typ, displayName string) (string, error) {
	return unrecorded(ctx, a.backoff, func(ctx context.Context) func() (*monitoringpb.NotificationChannel, error) {
		return a.channels.ListNotificationChannels(ctx, &monitoringpb.ListNotificationChannelsRequest{
			Name: "projects/" + project, Filter: fmt.Sprintf("type = %q AND display_name = %q", typ, displayName)}).Next
	})
}

// drainFound walks a listing until found says so or it ends.
func drainFound[T any](next func() (T, error), found func(T) bool) error {
	for {
		v, err := next()
		if err == iterator.Done {
			return nil
		}
		if err != nil {
			return err
		}
		if found(v) {
			return nil
		}
	}
}

// withCreateID returns labels with createIDLabel set to a new random value, for a create.
func withCreateID(labels map[string]string) map[string]string {
	if labels == nil {
		labels = map[string]string{}
	}
	labels[createIDLabel] = newAlfredID()
	return labels
}

// noneUnrecorded reports whether a create may go on, given what unrecorded found (left, err): not when the
// project holds an object this provider created with the display name that no state records, nor when
// that could not be looked up. title names the object in summaries ("Alert policy"), kind in sentences
// ("alert policy"), listing what was listed.
func noneUnrecorded(left string, err error, title, kind, listing, displayName, project string, diags *diag.Diagnostics) bool {
	if err != nil {
		diags.AddError("Could not create "+strings.ToLower(title), shared.DescribeGRPC("list", listing, err))
		return false
	}
	if left != "" {
		diags.AddAttributeError(path.Root("display_name"), title+" already exists", unrecordedError(kind, displayName, project, left))
		return false
	}
	return true
}

// unrecordedError is the error of a create that found the object an interrupted apply left.
func unrecordedError(what, displayName, project, name string) string {
	return fmt.Sprintf("Project %s already has the %s %q (%s), which this provider created (it carries the %s label) "+
		"and this resource does not manage: an apply that was interrupted after creating it, before Terraform recorded "+
		"it, leaves one. Import it: `terraform import <address> %s`, and the next plan shows how it differs. If it "+
		"belongs to another configuration, give this one another display_name. Nothing was created.",
		project, what, displayName, name, createIDLabel, name)
}

// createChannel creates ch in project; a create whose reply may have been lost is found by ch's createIDLabel.
func (a *monAPI) createChannel(ctx context.Context, project string, ch *monitoringpb.NotificationChannel) (*monitoringpb.NotificationChannel, error) {
	return createChecked(ctx, a.backoff, func(ctx context.Context) (*monitoringpb.NotificationChannel, bool, error) {
		return firstOf(a.channels.ListNotificationChannels(ctx, &monitoringpb.ListNotificationChannelsRequest{
			Name: "projects/" + project, Filter: labelFilter(ch.UserLabels[createIDLabel])}).Next)
	}, func(ctx context.Context) (*monitoringpb.NotificationChannel, error) {
		return a.channels.CreateNotificationChannel(ctx, &monitoringpb.CreateNotificationChannelRequest{Name: "projects/" + project, NotificationChannel: ch})
	})
}

func (a *monAPI) getChannel(ctx context.Context, name string) (*monitoringpb.NotificationChannel, error) {
	var out *monitoringpb.NotificationChannel
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		var err error
		out, err = a.channels.GetNotificationChannel(ctx, &monitoringpb.GetNotificationChannelRequest{Name: name})
		return err
	})
	return out, err
}

func (a *monAPI) updateChannel(ctx context.Context, ch *monitoringpb.NotificationChannel, paths []string) (*monitoringpb.NotificationChannel, error) {
	var out *monitoringpb.NotificationChannel
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		var err error
		out, err = a.channels.UpdateNotificationChannel(ctx, &monitoringpb.UpdateNotificationChannelRequest{NotificationChannel: ch, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}})
		return err
	})
	return out, err
}

func (a *monAPI) deleteChannel(ctx context.Context, name string, force bool) error {
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		return a.channels.DeleteNotificationChannel(ctx, &monitoringpb.DeleteNotificationChannelRequest{Name: name, Force: force})
	})
	if shared.IsNotFound(err) {
		return nil
	}
	return err
}
