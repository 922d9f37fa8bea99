"""The e-mail channel's pure core (docs/email.md).

* :mod:`.templates`: the template catalogue (file layout, locale fallback) and ``render_email``;
* :mod:`.sandbox`: the sandboxed Jinja2 environment, its locale-aware filters, its error messages;
* :mod:`.plaintext`: the text part made from HTML;
* :mod:`.context`: the personalisation variables a template sees;
* :mod:`.mime`: MIME assembly, stable Message-IDs, unsubscribe headers, reading a message back;
* :mod:`.transport`: the ``EmailTransport`` port, ``SendResult`` and SMTP reply classification;
* :mod:`.rate`: a token bucket for one process.

Nothing here sends, reads the clock or writes a file; the transports are adapters
(``adapters/channels/smtp.py``, ``adapters/channels/outbox_dir.py``). Import the submodules
directly: this package imports none of them, so reading one does not load Jinja2 or Babel.
"""
