"""English interview material of the fashion_retail case (codes with quotes), written for
this project. Shares are multiples of 1/30 (30 respondents), so they are planted exactly."""

from __future__ import annotations

from toolkit.synthetic.interviews import CodeSpec

C = CodeSpec

TP = {
    "shop_window": "Shop window", "sales_floor": "Sales floor", "fitting_rooms": "Fitting rooms",
    "staff": "Staff", "price_tags": "Price tags", "checkout": "Checkout", "webshop": "Webshop",
    "returns": "Returns", "loyalty_card": "Loyalty card", "newsletter": "Newsletter",
}


def _s(k: int) -> float:
    return round(k / 30, 6)


CODES: tuple[CodeSpec, ...] = (
    # ---------------------------------------------------------------- store visit
    C("size_sold_out", "barrier", "store_visit", _s(9), (-1, -2), (
        "My size was always sold out, the rails had only XS or XL left.",
        "Half the sizes were missing on the shelf, so I gave up after ten minutes.",
    ), "Size sold out", TP["sales_floor"], "soft", "company", {"fit": 2.0}),
    C("window_display", "motivator", "store_visit", _s(9), (1, 2), (
        "The window display pulled me in, the new collection looked amazing.",
        "I walked past, saw the window and simply had to go inside.",
    ), "Window display", TP["shop_window"], "soft", "company", {"trend": 2.5}),
    C("emotion_excited", "emotion", "store_visit", _s(9), (1,), (
        "I was excited to see the new autumn collection.",
        "Honestly I felt a little thrill walking in.",
    ), "Excitement"),
    C("emotion_overwhelmed", "emotion", "store_visit", _s(6), (-1,), (
        "The store felt overwhelming, too much stuff everywhere.",
        "I felt overwhelmed by the loud music and the crowd.",
    ), "Overwhelmed"),
    # ---------------------------------------------------------------- trying on
    C("fitting_room_queue", "barrier", "trying_on", _s(12), (-1, -2), (
        "There was a queue of ten people for the fitting rooms, so I just left.",
        "I waited twenty minutes to try on one pair of jeans.",
        "Two fitting rooms for the whole floor on a Saturday & nobody managing the line.",
    ), "Queue for the fitting rooms", TP["fitting_rooms"], "soft", "company", {}),
    C("bad_fit", "barrier", "trying_on", _s(10), (-1, -2), (
        "The cut is made for very tall women, the trousers are always too long on me.",
        "The shoulders are too tight in every jacket I tried.",
    ), "Poor fit", TP["fitting_rooms"], "hard", "company", {"fit": 3.0}),
    C("stylist_help", "motivator", "trying_on", _s(9), (1, 2), (
        "The stylist brought me three other sizes without me even asking.",
        "A consultant put together a whole outfit for me in five minutes.",
    ), "Help from a stylist", TP["staff"], "soft", "company", {"fit": 2.0, "trend": 1.5}),
    C("emotion_frustrated", "emotion", "trying_on", _s(10), (-2,), (
        "I was so frustrated I almost threw the jeans on the floor.",
        "It was really frustrating, nothing looked right under that light.",
    ), "Frustration"),
    C("emotion_confident", "emotion", "trying_on", _s(6), (1,), (
        "In that dress I felt confident for the first time in months.",
        "The mirror made me feel confident and tall.",
    ), "Confidence"),
    # ---------------------------------------------------------------- decision
    C("price_too_high", "barrier", "decision", _s(12), (-1, -2), (
        "Ninety euros for a T-shirt is too expensive for me.",
        "The prices are way above my budget & I left with nothing.",
        "Everything I liked cost > 150 euros, far too expensive for a top.",
    ), "Price too high", TP["price_tags"], "hard", "company", {"bargain": 3.0, "trend": 0.4}),
    C("sale_discount", "motivator", "decision", _s(9), (1, 2), (
        "I waited for the sale and got the coat thirty percent off.",
        "The discount code from the newsletter made me buy it.",
    ), "Sale or discount", TP["price_tags"], "hard", "company", {"bargain": 2.5}),
    C("quality_fabric", "choice_factor", "decision", _s(7), (1,), (
        "For me the fabric matters most, I check the label every time.",
        "I pay more if the wool is really good quality.",
    ), "Fabric quality", None, "soft", "company", {"fit": 2.5}),
    C("emotion_hesitant", "emotion", "decision", _s(8), (-1,), (
        "I kept hesitating, putting the bag down and picking it up again.",
        "I was unsure whether I really needed another jacket.",
    ), "Hesitation"),
    C("emotion_delighted", "emotion", "decision", _s(4), (2,), (
        "I was delighted, it was exactly the coat I had been looking for.",
        "Finding that dress made my whole week.",
    ), "Delight"),
    # ---------------------------------------------------------------- payment
    C("checkout_queue", "barrier", "payment", _s(7), (-1,), (
        "Only one till was open and the line moved very slowly.",
        "Paying took longer than choosing: one till for the whole floor.",
    ), "Slow checkout", TP["checkout"], "soft", "company", {}),
    C("shipping_cost", "barrier", "payment", _s(6), (-1, -2), (
        "The delivery fee made the whole order pointless.",
        "Free shipping only above 100 euros, so I closed the tab.",
    ), "Shipping cost", TP["webshop"], "hard", "company", {"bargain": 2.0}),
    C("easy_payment", "motivator", "payment", _s(6), (1,), (
        "Paying with my phone took two seconds.",
        "Paying in three instalments made the coat possible.",
    ), "Easy payment", TP["checkout"], "soft", "company", {}),
    C("idea_click_and_collect", "idea", "payment", _s(4), (0,), (
        "Click and collect would save me the queue and the delivery fee.",
        "Let me reserve online and pay in the store, that would be ideal.",
    ), "Click and collect", TP["webshop"]),
    C("emotion_relieved", "emotion", "payment", _s(6), (1,), (
        "I was relieved the card went through the first time.",
        "Finally done, what a relief.",
    ), "Relief"),
    C("emotion_annoyed", "emotion", "payment", _s(6), (-1,), (
        "I got annoyed when the terminal froze twice.",
        "It annoyed me that they pushed the store card so hard.",
    ), "Annoyance"),
    # ---------------------------------------------------------------- after-sale service
    C("return_hassle", "barrier", "after_sale", _s(9), (-1, -2), (
        "Returning the jeans took three weeks and two e-mails to support@shop.example.",
        "I had to call +31 6 1234 5678 three times before they accepted the return.",
        "They refused the exchange because I had lost the receipt.",
    ), "Return hassle", TP["returns"], "soft", "company", {}),
    C("loyalty_points", "motivator", "after_sale", _s(8), (1,), (
        "My loyalty points paid for the scarf.",
        "I always scan my card, the birthday voucher is worth it.",
    ), "Loyalty points", TP["loyalty_card"], "soft", "company", {"bargain": 2.0}),
    C("newsletter_inspiration", "motivator", "after_sale", _s(5), (1,), (
        "The newsletter shows outfits, and I often buy the whole look.",
        "I open their e-mails just for the styling ideas.",
    ), "Newsletter inspiration", TP["newsletter"], "soft", "company", {"trend": 2.0}),
    C("emotion_satisfied", "emotion", "after_sale", _s(9), (2,), (
        "I am completely satisfied, the coat still looks new after two winters.",
        "Really happy with everything, I will be back.",
    ), "Satisfaction"),
    C("emotion_disappointed", "emotion", "after_sale", _s(3), (-1,), (
        "I was disappointed that the sweater pilled after one wash.",
        "A bit disappointing that nobody answered my review.",
    ), "Disappointment"),
)
