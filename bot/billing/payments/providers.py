"""Which payment provider this process uses: Stripe when it is configured, else the sandbox.

Apart from `bot.billing.payments.gateway` (the seam both providers implement), so that the seam
imports neither provider and neither provider's module imports its chooser.
"""

from __future__ import annotations

from bot.billing.payments.gateway import PaymentGateway
from bot.billing.payments.sandbox import SandboxGateway
from bot.billing.payments.stripe_gateway import StripeGateway
from bot.config import process


def gateway_from_env() -> PaymentGateway:
    """Stripe when STRIPE_SECRET_KEY is set (STRIPE_API_BASE may point elsewhere), else the sandbox."""
    settings = process.current()
    if settings.stripe_secret_key:
        return StripeGateway(settings.stripe_secret_key, api_base=settings.stripe_api_base)
    return SandboxGateway()
