"""Delivery of the act plane's messages (issue 15, docs/email.md): sending the outbox with the policy
checked at send time, pacing, unknown outcomes, suppressions, unsubscribe links and preferences.

Modules: ``delivery`` (:func:`send_due`), ``gate`` (send-time checks), ``pacing`` (the shared send
rate), ``compose`` (one e-mail from one row), ``outcomes`` (events, webhooks, bounces), ``links``
(signed links, the instance's secrets), ``suppressions`` (admin, unsubscribe, preferences),
``progress`` (counts, rate, estimated finish; the message list).

Nothing is imported here: a caller imports the module it needs (templates and the policy pull in
Jinja2, css-inline and Babel, which the API's other routes do not need).
"""
