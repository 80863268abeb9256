package alerting

import (
	"net/mail"
	"net/url"
	"regexp"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// channelLabel is one label of a notification channel type, as Cloud Monitoring's channel descriptors
// (projects.notificationChannelDescriptors) define it. Sensitive labels are the ones the API returns
// masked (auth_token, service_key, password: the google provider's and Config Connector's
// sensitive_labels); they go in sensitive_labels, the others in labels.
type channelLabel struct {
	key       string
	required  bool
	sensitive bool
	check     func(string) string // returns what is wrong, or ""
}

var channelTypes = map[string][]channelLabel{
	"email":             {{key: "email_address", required: true, check: checkEmail}},
	"slack":             {{key: "channel_name", required: true}, {key: "team"}, {key: "auth_token", required: true, sensitive: true}},
	"pagerduty":         {{key: "service_key", required: true, sensitive: true}},
	"webhook_tokenauth": {{key: "url", required: true, check: checkURL}},
	"webhook_basicauth": {{key: "url", required: true, check: checkURL}, {key: "username", required: true}, {key: "password", required: true, sensitive: true}},
	"pubsub":            {{key: "topic", required: true, check: checkTopic}},
}

func channelTypeNames() []string {
	return []string{"email", "slack", "pagerduty", "webhook_tokenauth", "webhook_basicauth", "pubsub"}
}

func checkEmail(v string) string {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v {
		return "must be a plain email address such as oncall@example.com"
	}
	return ""
}

func checkURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "must be an http(s) URL such as https://hooks.example.com/alerts"
	}
	return ""
}

var topicRE = regexp.MustCompile(`^projects/[^/]+/topics/[a-zA-Z][a-zA-Z0-9._~%+-]{2,254}$`)

func checkTopic(v string) string {
	if !topicRE.MatchString(v) || strings.HasPrefix(v[strings.LastIndex(v, "/")+1:], "goog") {
		return "must be a Pub/Sub topic name projects/{project}/topics/{topic}"
	}
	return ""
}

// maskMatches reports whether masked (as the API returns a sensitive value: stars, then the value's
// last characters) can be the mask of secret. With no clear characters it cannot tell, and says yes.
func maskMatches(masked, secret string) bool {
	tail := strings.TrimLeft(masked, "*")
	if tail == masked && masked != "" {
		return masked == secret // not masked at all
	}
	return strings.HasSuffix(secret, tail)
}

// addAttrError reports a plan-time error on an attribute; the detail starts with the attribute's path, so
// that the message names it wherever it is shown (Terraform's own output points at the line only).
func addAttrError(diags *diag.Diagnostics, p path.Path, summary, detail string) {
	diags.AddAttributeError(p, summary, p.String()+": "+detail)
}
