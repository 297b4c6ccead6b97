package notify

import (
	"fmt"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/approvals"
)

// SlackMessage is an incoming-webhook payload.
type SlackMessage struct {
	Text string `json:"text"`
}

// Message formats an event. Client-supplied text (reason, job, build URL)
// is escaped as Slack's mrkdwn asks (&, <, >), so it cannot forge a link or
// a mention.
func Message(e approvals.Event, publicURL string) SlackMessage {
	r := &e.Request
	var b strings.Builder
	role := roleName(r.RoleARN)
	who := escape(principalName(e.Actor))
	switch e.Kind {
	case approvals.EventRequested:
		fmt.Fprintf(&b, "shortfuse: %s asks for role *%s* for %s. Code *%s*", escape(principalName(r.Requester)), escape(role), r.Duration, r.Code)
		if r.Rules.Required > 1 {
			fmt.Fprintf(&b, " (needs %d approvals)", r.Rules.Required)
		}
		b.WriteString(".")
	case approvals.EventApproval:
		fmt.Fprintf(&b, "shortfuse: %s approved request *%s* for role *%s* (%d of %d approvals).", who, r.Code, escape(role), len(r.Approvals), r.Rules.Required)
	case approvals.EventApproved:
		fmt.Fprintf(&b, "shortfuse: request *%s* for role *%s* is approved by %s; the session is waiting for the job.", r.Code, escape(role), escape(strings.Join(r.Approvers(), ", ")))
	case approvals.EventDenied:
		if r.IsRequester(e.Actor) {
			fmt.Fprintf(&b, "shortfuse: request *%s* for role *%s* was withdrawn by the requester.", r.Code, escape(role))
		} else {
			fmt.Fprintf(&b, "shortfuse: %s denied request *%s* for role *%s*.", who, r.Code, escape(role))
		}
		if r.DenyReason != "" {
			fmt.Fprintf(&b, " Reason: %s", escape(r.DenyReason))
		}
	case approvals.EventRedeemed:
		fmt.Fprintf(&b, "shortfuse: the job redeemed request *%s* for role *%s*.", r.Code, escape(role))
	case approvals.EventReplay:
		fmt.Fprintf(&b, "shortfuse: ALARM: request *%s* for role *%s* was redeemed a second time by %s. The attempt was refused and its session revoked.", r.Code, escape(role), who)
	default:
		fmt.Fprintf(&b, "shortfuse: request *%s*: %s.", r.Code, escape(string(e.Kind)))
	}
	if e.Kind == approvals.EventRequested || e.Kind == approvals.EventApproval {
		if r.Reason != "" {
			fmt.Fprintf(&b, "\nReason: %s", escape(r.Reason))
		}
		if line := buildLine(r.Build); line != "" {
			b.WriteString("\nBuild: " + line)
		}
		fmt.Fprintf(&b, "\nApprove with `shortfuse approve %s`", r.Code)
		if publicURL != "" {
			fmt.Fprintf(&b, " or on <%s|the approval page>", linkURL(publicURL+"/ui/requests/"+r.Code))
		}
		fmt.Fprintf(&b, "; it expires at %s.", r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return SlackMessage{Text: b.String()}
}

func buildLine(bd approvals.Build) string {
	var parts []string
	label := bd.Job
	if bd.Number != "" {
		label = strings.TrimSpace(label + " #" + bd.Number)
	}
	switch {
	case bd.URL != "" && label != "":
		parts = append(parts, "<"+linkURL(bd.URL)+"|"+escapeLabel(label)+">")
	case bd.URL != "":
		parts = append(parts, "<"+linkURL(bd.URL)+">")
	case label != "":
		parts = append(parts, escape(label))
	}
	if bd.Commit != "" {
		parts = append(parts, "commit "+escape(bd.Commit))
	}
	if bd.ParamsHash != "" {
		parts = append(parts, "parameters "+escape(bd.ParamsHash[:min(len(bd.ParamsHash), 19)]))
	}
	return strings.Join(parts, ", ")
}

// escape applies Slack's three mrkdwn escapes.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// escapeLabel also removes the link separator.
func escapeLabel(s string) string { return escape(strings.ReplaceAll(s, "|", "/")) }

// linkURL makes a URL safe inside <…|…>.
func linkURL(u string) string {
	return strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20").Replace(u)
}

func roleName(arn string) string {
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

// principalName shortens an ARN to what people call it: the user name, or
// role/session.
func principalName(arn string) string {
	for _, sep := range []string{":user/", ":assumed-role/", ":role/"} {
		if _, rest, ok := strings.Cut(arn, sep); ok {
			if sep == ":user/" {
				return rest[strings.LastIndexByte(rest, '/')+1:]
			}
			return rest
		}
	}
	return arn
}
