// Package notify sends the steps of approval requests to a webhook as
// Slack-compatible JSON ({"text": "..."}), which Slack, Mattermost,
// Rocket.Chat and most chat bridges accept as an incoming webhook.
//
// [Webhook] implements approvals.Notifier: Notify queues the event and
// returns at once; one goroutine sends the queue, retrying a failed POST a
// few times. When the queue is full an event is dropped and logged: a slow
// chat server never holds up an approval. Messages carry who asked, for
// which role and build, and who decided: never a credential, a redemption
// key or sealed material (the events do not hold any). Text that comes from
// clients is escaped so that it cannot forge links or mentions.
package notify
