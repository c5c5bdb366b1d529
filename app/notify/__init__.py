"""Notifications: delivering the outbox to webhooks (JSON, WeCom and DingTalk robots) and to
members' WeChat as subscription messages, with retries, dead letters and a status report."""
