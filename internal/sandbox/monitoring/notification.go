package monitoring

import (
	"context"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api"
	"google.golang.org/genproto/googleapis/api/label"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

type channelServer struct {
	monitoringpb.UnimplementedNotificationChannelServiceServer
	s *Server
}

// channelType is one notification channel descriptor the sandbox knows. Labels follow the channel
// descriptors Cloud Monitoring lists (projects.notificationChannelDescriptors.list) for these types.
type channelType struct {
	displayName, description string
	labels                   []channelLabel
}

type channelLabel struct {
	key, description string
	required         bool
	sensitive        bool
	check            func(string) bool
}

var channelTypes = map[string]channelType{
	"email": {
		displayName: "Email",
		description: "A channel that sends notifications via email.",
		labels: []channelLabel{{key: "email_address", description: "An address to send email.", required: true,
			check: func(v string) bool { a, err := mail.ParseAddress(v); return err == nil && a.Address == v }}},
	},
	"slack": {
		displayName: "Slack",
		description: "A channel that sends notifications to a Slack channel.",
		labels: []channelLabel{
			{key: "channel_name", description: "The Slack channel to which to post notifications.", required: true},
			{key: "team", description: "The Slack team (workspace) name."},
			{key: "auth_token", description: "The OAuth token used to post to the Slack channel.", required: true, sensitive: true},
		},
	},
	"pagerduty": {
		displayName: "PagerDuty Services",
		description: "A channel that sends notifications to a PagerDuty service.",
		labels:      []channelLabel{{key: "service_key", description: "The PagerDuty integration (service) key.", required: true, sensitive: true}},
	},
	"webhook_tokenauth": {
		displayName: "Webhooks",
		description: "A channel that sends notifications to a webhook URL, authenticated by a token in the URL.",
		labels: []channelLabel{{key: "url", description: "The public URL to which to publish.", required: true,
			check: func(v string) bool {
				u, err := url.Parse(v)
				return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
			}}},
	},
	"webhook_basicauth": {
		displayName: "Webhooks",
		description: "A channel that sends notifications to a webhook URL with HTTP basic authentication.",
		labels: []channelLabel{
			{key: "url", description: "The public URL to which to publish.", required: true, check: httpURL},
			{key: "username", description: "The username for HTTP basic authentication.", required: true},
			{key: "password", description: "The password for HTTP basic authentication.", required: true, sensitive: true},
		},
	},
	"pubsub": {
		displayName: "Pub/Sub",
		description: "A channel that publishes notifications to a Pub/Sub topic.",
		labels: []channelLabel{{key: "topic", description: "The Pub/Sub topic, projects/{project}/topics/{topic}.", required: true,
			check: func(v string) bool { return pubsubTopicRE.MatchString(v) }}},
	},
}

var pubsubTopicRE = regexp.MustCompile(`^projects/[^/]+/topics/[a-zA-Z][a-zA-Z0-9._~%+-]{2,254}$`)

func httpURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// maskSecret hides a sensitive label value on read ("Fields containing sensitive information like
// authentication tokens or contact info are only partially populated on retrieval"): every character
// but the last four becomes '*', as the live API returns a Slack token
// ("***...***9684", GoogleCloudPlatform/python-docs-samples#1852). Values of four characters or fewer are
// all stars (unverified).
func maskSecret(v string) string {
	r := []rune(v)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

var channelOutputOnly = map[string]bool{"name": true, "creation_record": true, "mutation_records": true, "verification_status": true}

func descriptorFor(project, typ string, ct channelType) *monitoringpb.NotificationChannelDescriptor {
	d := &monitoringpb.NotificationChannelDescriptor{
		Name:        "projects/" + project + "/notificationChannelDescriptors/" + typ,
		Type:        typ,
		DisplayName: ct.displayName,
		Description: ct.description,
		LaunchStage: api.LaunchStage_GA,
	}
	for _, l := range ct.labels {
		d.Labels = append(d.Labels, &label.LabelDescriptor{Key: l.key, ValueType: label.LabelDescriptor_STRING, Description: l.description})
	}
	return d
}

func (c *channelServer) ListNotificationChannelDescriptors(_ context.Context, req *monitoringpb.ListNotificationChannelDescriptorsRequest) (*monitoringpb.ListNotificationChannelDescriptorsResponse, error) {
	project, err := parseProject(req.GetName(), "name")
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(channelTypes))
	for t := range channelTypes {
		keys = append(keys, t)
	}
	keys, next, err := page(keys, req.GetPageSize(), req.GetPageToken(), 1000)
	if err != nil {
		return nil, err
	}
	resp := &monitoringpb.ListNotificationChannelDescriptorsResponse{NextPageToken: next}
	for _, t := range keys {
		resp.ChannelDescriptors = append(resp.ChannelDescriptors, descriptorFor(project, t, channelTypes[t]))
	}
	return resp, nil
}

func (c *channelServer) GetNotificationChannelDescriptor(_ context.Context, req *monitoringpb.GetNotificationChannelDescriptorRequest) (*monitoringpb.NotificationChannelDescriptor, error) {
	project, typ, err := parseChild(req.GetName(), "notificationChannelDescriptors")
	if err != nil {
		return nil, err
	}
	ct, ok := channelTypes[typ]
	if !ok {
		return nil, notFound("notification channel descriptor", req.GetName())
	}
	return descriptorFor(project, typ, ct), nil
}

func (c *channelServer) CreateNotificationChannel(_ context.Context, req *monitoringpb.CreateNotificationChannelRequest) (*monitoringpb.NotificationChannel, error) {
	project, err := parseProject(req.GetName(), "name")
	if err != nil {
		return nil, err
	}
	if req.GetNotificationChannel() == nil {
		return nil, status.Error(codes.InvalidArgument, "notification_channel is required")
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := clone(req.GetNotificationChannel())
	if err := validateChannel(ch); err != nil {
		return nil, err
	}
	ch.Name = "projects/" + project + "/notificationChannels/" + s.newIDLocked()
	if ch.Enabled == nil {
		ch.Enabled = wrapperspb.Bool(true)
	}
	ch.VerificationStatus = monitoringpb.NotificationChannel_VERIFICATION_STATUS_UNSPECIFIED
	rec := s.record()
	ch.CreationRecord = rec
	ch.MutationRecords = []*monitoringpb.MutationRecord{clone(rec)}
	s.channels[ch.Name] = ch
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return masked(ch), nil
}

func (c *channelServer) GetNotificationChannel(_ context.Context, req *monitoringpb.GetNotificationChannelRequest) (*monitoringpb.NotificationChannel, error) {
	if _, _, err := parseChild(req.GetName(), "notificationChannels"); err != nil {
		return nil, err
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[req.GetName()]
	if !ok {
		return nil, notFound("notification channel", req.GetName())
	}
	return masked(ch), nil
}

func (c *channelServer) ListNotificationChannels(_ context.Context, req *monitoringpb.ListNotificationChannelsRequest) (*monitoringpb.ListNotificationChannelsResponse, error) {
	project, f, err := parseList(req.GetName(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	if err := checkOrderBy(req.GetOrderBy()); err != nil {
		return nil, err
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	channels, next, total, err := listPage(s.channels, "projects/"+project+"/notificationChannels/", f,
		func(ch *monitoringpb.NotificationChannel) lookupFunc {
			return protoLookup(ch, map[string]string{"user_label": "user_labels", "label": "labels"})
		}, req.GetPageSize(), req.GetPageToken(), 1000)
	if err != nil {
		return nil, err
	}
	resp := &monitoringpb.ListNotificationChannelsResponse{NextPageToken: next, TotalSize: int32(total)}
	for _, ch := range channels {
		resp.NotificationChannels = append(resp.NotificationChannels, masked(ch))
	}
	return resp, nil
}

func (c *channelServer) UpdateNotificationChannel(_ context.Context, req *monitoringpb.UpdateNotificationChannelRequest) (*monitoringpb.NotificationChannel, error) {
	in := req.GetNotificationChannel()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "notification_channel is required")
	}
	if _, _, err := parseChild(in.GetName(), "notificationChannels"); err != nil {
		return nil, err
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.channels[in.GetName()]
	if !ok {
		return nil, notFound("notification channel", in.GetName())
	}
	// A masked value sent back is stored as sent: the API does not recognise its own obfuscation, so a
	// client that writes back what it read loses the secret (python-docs-samples#1852: a backup of
	// channels read through the API cannot be restored, the auth_token being masked).
	in = clone(in)
	var ch *monitoringpb.NotificationChannel
	if paths := req.GetUpdateMask().GetPaths(); len(paths) > 0 {
		ch = clone(old)
		if err := kit.ApplyMask(ch, in, paths, channelOutputOnly); err != nil {
			return nil, err
		}
	} else {
		ch = in
	}
	if ch.Type != old.Type {
		return nil, status.Errorf(codes.InvalidArgument, "notification_channel.type cannot be changed (was %q, got %q)", old.Type, ch.Type)
	}
	if err := validateChannel(ch); err != nil {
		return nil, err
	}
	ch.Name = old.Name
	if ch.Enabled == nil {
		ch.Enabled = wrapperspb.Bool(true)
	}
	ch.VerificationStatus = old.VerificationStatus
	ch.CreationRecord = clone(old.CreationRecord)
	ch.MutationRecords = append(clone(old).MutationRecords, s.record())
	s.channels[ch.Name] = ch
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return masked(ch), nil
}

func (c *channelServer) DeleteNotificationChannel(_ context.Context, req *monitoringpb.DeleteNotificationChannelRequest) (*emptypb.Empty, error) {
	if _, _, err := parseChild(req.GetName(), "notificationChannels"); err != nil {
		return nil, err
	}
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[req.GetName()]; !ok {
		return nil, notFound("notification channel", req.GetName())
	}
	var users []string
	for _, p := range s.policies {
		for _, ch := range p.NotificationChannels {
			if ch == req.GetName() {
				users = append(users, p.Name)
			}
		}
	}
	if len(users) > 0 && !req.GetForce() {
		sort.Strings(users)
		return nil, status.Errorf(codes.FailedPrecondition,
			"notification channel %s is referenced by alert policies %s; remove it from them or delete with force", req.GetName(), strings.Join(users, ", "))
	}
	// "If true, the notification channel will be deleted regardless of its use in alert policies (the
	// policies will be updated to remove the channel)."
	for _, pn := range users {
		p := s.policies[pn]
		kept := p.NotificationChannels[:0]
		for _, ch := range p.NotificationChannels {
			if ch != req.GetName() {
				kept = append(kept, ch)
			}
		}
		p.NotificationChannels = kept
		p.MutationRecord = s.record()
	}
	delete(s.channels, req.GetName())
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func validateChannel(ch *monitoringpb.NotificationChannel) error {
	ct, ok := channelTypes[ch.Type]
	if !ok {
		known := make([]string, 0, len(channelTypes))
		for t := range channelTypes {
			known = append(known, t)
		}
		sort.Strings(known)
		return invalid("notification_channel.type %q is not a known channel type (the sandbox knows %s)", ch.Type, strings.Join(known, ", "))
	}
	// "The display name is limited to 512 Unicode characters." "This [description] may not exceed 1024
	// Unicode characters."
	if n := utf8.RuneCountInString(ch.DisplayName); n > 512 {
		return invalid("notification_channel.display_name is limited to 512 characters, got %d", n)
	}
	if n := utf8.RuneCountInString(ch.Description); n > 1024 {
		return invalid("notification_channel.description is limited to 1024 characters, got %d", n)
	}
	if err := validateUserLabels("notification_channel.user_labels", ch.UserLabels); err != nil {
		return err
	}
	allowed := map[string]channelLabel{}
	for _, l := range ct.labels {
		allowed[l.key] = l
		v, present := ch.Labels[l.key]
		if l.required && (!present || v == "") {
			return invalid("notification_channel.labels must contain %q for channel type %q", l.key, ch.Type)
		}
		if present && l.check != nil && !l.check(v) {
			return invalid("notification_channel.labels[%q] = %q is not valid for channel type %q", l.key, v, ch.Type)
		}
	}
	for k := range ch.Labels {
		if _, ok := allowed[k]; !ok {
			return invalid("notification_channel.labels: %q is not a label of channel type %q", k, ch.Type)
		}
	}
	return nil
}

// masked returns a copy of ch for a response, with sensitive label values hidden.
func masked(ch *monitoringpb.NotificationChannel) *monitoringpb.NotificationChannel {
	out := clone(ch)
	for _, l := range channelTypes[ch.Type].labels {
		if _, ok := out.Labels[l.key]; ok && l.sensitive {
			out.Labels[l.key] = maskSecret(out.Labels[l.key])
		}
	}
	return out
}
