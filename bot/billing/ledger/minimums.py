"""The smallest balance that can be paid online, per currency, and what to say below it.

Stripe refuses a Checkout Session or a PaymentIntent under the currency's minimum charge
with `amount_too_small` (USD 0.50, GBP 0.30, JPY 50, …; the table is Stripe's, from
https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). A balance under it
(a $0.20 leftover after a partial payment, a tiny deposit) is not sent to the provider at
all: the pay page and the chat say it is below the online minimum and how to pay instead,
and the owner marks it paid when it is settled. The sandbox follows the same table, so test
mode behaves as live. A currency missing from the table has no local minimum: Stripe
converts it to USD 0.50 and may still refuse, and that refusal reads clearly
(`stripe_gateway.describe_stripe_error`).
"""

from __future__ import annotations

from bot.config.context import BusinessContext
from bot.core.text import N_, _, t

# Minor units, by ISO 4217 code (upper case, as slotbot stores currencies).
MINIMUM_CHARGE: dict[str, int] = {
    "USD": 50,
    "AED": 200,
    "AUD": 50,
    "BGN": 100,
    "BRL": 50,
    "CAD": 50,
    "CHF": 50,
    "CZK": 1500,
    "DKK": 250,
    "EUR": 50,
    "GBP": 30,
    "HKD": 400,
    "HUF": 17500,
    "INR": 50,
    "JPY": 50,
    "MXN": 1000,
    "MYR": 200,
    "NOK": 300,
    "NZD": 50,
    "PLN": 200,
    "RON": 200,
    "SEK": 300,
    "SGD": 50,
    "THB": 1000,
}

OTHER_WAYS = N_("please pay in person, or reply to our message to arrange another way")


def online_minimum(currency: str) -> int:
    """The smallest amount (minor units) an online payment in `currency` may be; 0 if unknown."""
    return MINIMUM_CHARGE.get(currency.upper(), 0)


def payable_online(amount_minor: int, currency: str) -> bool:
    """Whether a positive balance is large enough to be paid online."""
    return amount_minor >= online_minimum(currency)


def below_minimum_words(ctx: BusinessContext, amount_minor: int, currency: str) -> str:
    """The customer's sentence for a balance under the online minimum (no link: it can't work)."""
    minimum = ctx.money(online_minimum(currency))
    return (
        t("{amount} is below the {minimum} minimum for paying online, "
        "so {other_ways}.", amount=ctx.money(amount_minor), minimum=minimum, other_ways=_(OTHER_WAYS))
    )


def pay_here(ctx: BusinessContext, amount_minor: int, currency: str, url: str) -> str:
    """ "Pay here: URL", or the way to pay instead when the amount is under the online minimum."""
    if payable_online(amount_minor, currency):
        return t("Pay here: {url}", url=url)
    return below_minimum_words(ctx, amount_minor, currency)
