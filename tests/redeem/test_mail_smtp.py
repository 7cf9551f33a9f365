"""One send through a real SMTP server (aiosmtpd, started by the test on 127.0.0.1), read back."""

from email import message_from_bytes, policy

from codes.services import codes_send_by_email


def test_given_a_real_smtp_server_when_a_code_is_sent_then_the_message_arrives_with_text_and_html(
    shop, smtp_server, settings, django_capture_on_commit_callbacks
):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = controller.hostname, controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.SITE_URL = "https://keyline.example"
    code = shop.codes[0]

    from cms.celery import app

    previous, app.conf.task_always_eager = app.conf.task_always_eager, True  # the worker, in-process
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            codes_send_by_email(
                codes=[code], actor=shop.network.north_admin, recipient="driver@harvest.example", language="en"
            )
    finally:
        app.conf.task_always_eager = previous

    assert len(callbacks) == 1
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["driver@harvest.example"]
    message = message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"] == "Your activation code for 30 days"
    assert message["To"] == "driver@harvest.example"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert code.display_text in text and f"https://keyline.example/redeem/?code={code.display_text}" in text
    assert code.display_text in html
