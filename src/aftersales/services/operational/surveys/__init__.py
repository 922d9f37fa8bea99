"""Surveys and reviews, the operational side (issue 16; docs/surveys.md): definitions (apply,
versions, archive), sends (throttle, idempotent by key), the response page's use cases, invitation
links, and review moderation and export."""
