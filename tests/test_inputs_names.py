"""Names in free text (issue 16): the case's personal values, Russian names (pymorphy3), English
names (name list), phones with any dash, obfuscated e-mails; common nouns that are also names
stay when they are used as nouns. Hit rates are measured on generated quotes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import write_case
from toolkit.core.config import load_case
from toolkit.data.load import load_case_data
from toolkit.data.names import NameMasker
from toolkit.data.privacy import scrub_text


def test_the_measured_leaks_are_masked():
    ru = NameMasker(language="ru")
    assert ru("«Иванова Мария Петровна» была очень внимательна.") == "«[имя]» была очень внимательна."
    assert ru('Врач "Иван Петров" всё объяснил.') == 'Врач "[имя]" всё объяснил.'
    assert scrub_text("пишите orlova(at)yandex.ru") == "пишите [e-mail]"
    assert scrub_text("звоните +7 916 123–45–70 вечером") == "звоните [телефон] вечером"
    assert scrub_text("ivanova [at] mail dot ru, petrov собака mail.ru") == "[e-mail], [e-mail]"
    assert scrub_text("+7\u00a0(916)\u00a0123\u201245\u201270") == "[телефон]"
    en = NameMasker(language="en")
    assert en("I saw Mary Smith at the Riverside store.") == "I saw [name] at the Riverside store."
    assert en("Dr. Brown was kind and John helped.") == "Dr. [name] was kind and [name] helped."


def test_common_nouns_that_are_names_stay_nouns():
    ru = NameMasker(language="ru")
    for text in ["Вера в лечение пропала.", "Надежда умирает последней.", "Любовь к клинике у меня давно.",
                 "Москва большая, МРТ сделали быстро.", "Хорошо, что перезвонили.", "Дорого, но качественно."]:
        assert ru(text) == text
    assert ru("Мне помогла Надежда из регистратуры.") == "Мне помогла [имя] из регистратуры."
    en = NameMasker(language="en")
    for text in ["In May the staff were great.", "Will you come back?", "Mark my words: prices are high."]:
        assert en(text) == text


def test_the_case_words_are_never_masked():
    m = NameMasker(keep=["Роза", "Клиника Лев"], language="ru")
    assert m("Мы пришли в Лев и Роза нам понравилась.") == "Мы пришли в Лев и Роза нам понравилась."


# ------------------------------------------------------------------ generated quotes: hit rates
RU_FIRST = ["Мария", "Анна", "Елена", "Ольга", "Ирина", "Наталья", "Светлана", "Татьяна", "Иван", "Сергей",
            "Андрей", "Дмитрий", "Алексей", "Михаил", "Николай", "Павел", "Екатерина", "Юлия", "Марина", "Олег"]
RU_SURN = [("Иванов", "Иванова"), ("Смирнов", "Смирнова"), ("Кузнецов", "Кузнецова"), ("Попов", "Попова"),
           ("Соколов", "Соколова"), ("Лебедев", "Лебедева"), ("Козлов", "Козлова"), ("Новиков", "Новикова"),
           ("Морозов", "Морозова"), ("Волков", "Волкова"), ("Соловьёв", "Соловьёва"), ("Орлов", "Орлова")]
RU_PATR = [("Петрович", "Петровна"), ("Иванович", "Ивановна"), ("Сергеевич", "Сергеевна"), ("Андреевич", "Андреевна")]
RU_FEMALE = {"Мария", "Анна", "Елена", "Ольга", "Ирина", "Наталья", "Светлана", "Татьяна", "Екатерина", "Юлия", "Марина"}
RU_FRAMES = ["Администратор {} была вежлива, но долго оформляла.", "Мне очень помог доктор {}.",
             "Записалась к {} на приём, всё понравилось.", "Если бы не {}, я бы ушла в другую клинику.",
             "Хочу отметить работу медсестры, {} всё объяснила.", "«{}» перезвонила через час."]
EN_FIRST = ["Mary", "James", "Patricia", "John", "Jennifer", "Robert", "Linda", "Michael", "Susan", "David",
            "Karen", "Thomas", "Emily", "Daniel", "Olivia", "Jack"]
EN_SURN = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Clarke"]
EN_FRAMES = ["The assistant {} was polite but slow.", "I was helped by {} at the till.",
             "Honestly, {} made the difference.", "I asked for {} and she found my size.", "Thanks to {} I came back."]
NOUN_TEXTS = ["Вера в лечение вернулась после второго визита.", "Надежда была только на врача.",
              "Любовь к этому месту у меня с детства.", "Цена высокая, но результат есть.",
              "Консультация прошла быстро, администратор вежливая.", "Wait times in May were long.",
              "Will they call me back?", "The store near the station is bright and clean."]


def _ru_person(rng) -> str:
    first = RU_FIRST[rng.integers(len(RU_FIRST))]
    female = first in RU_FEMALE
    surname = RU_SURN[rng.integers(len(RU_SURN))][1 if female else 0]
    patr = RU_PATR[rng.integers(len(RU_PATR))][1 if female else 0]
    return [first, f"{first} {surname}", f"{surname} {first} {patr}", f"{first} {patr}"][rng.integers(4)]


def test_generated_names_are_masked_and_nouns_kept():
    rng = np.random.default_rng(16)
    ru, en = NameMasker(language="ru"), NameMasker(language="en")
    hits, total = 0, 0
    for _ in range(300):
        person = _ru_person(rng)
        text = RU_FRAMES[rng.integers(len(RU_FRAMES))].format(person)
        out = ru(text)
        total += 1
        hits += all(w not in out for w in person.split())
    ru_rate = hits / total
    hits, total = 0, 0
    for _ in range(300):
        person = EN_FIRST[rng.integers(len(EN_FIRST))]
        if rng.random() < 0.6:
            person += " " + EN_SURN[rng.integers(len(EN_SURN))]
        out = en(EN_FRAMES[rng.integers(len(EN_FRAMES))].format(person))
        total += 1
        hits += all(w not in out for w in person.split())
    en_rate = hits / total
    kept = sum((ru if any("а" <= c <= "я" for c in t.lower()) else en)(t) == t for t in NOUN_TEXTS) / len(NOUN_TEXTS)
    assert ru_rate >= 0.97, ru_rate
    assert en_rate >= 0.97, en_rate
    assert kept == 1.0


def test_personal_column_values_are_masked_in_quotes_and_lost_reasons(tmp_path):
    """A surname no dictionary knows is masked because the case declares it personal."""
    raw = tmp_path / "raw"
    raw.mkdir()
    pd.DataFrame({
        "ID": ["L1", "L2", "L3"], "Дата": ["01.02.2024"] * 3, "Бренд": ["Клиника"] * 3, "Этап": ["Заявка"] * 3,
        "Причина": ["Хабибуллина сказала дорого", "передумал, звонить +7 916 123–45–70", "Дорого"],
        "ФИО": ["Хабибуллина Гульназ Ринатовна", "Петров Иван", "Зябкина Оксана"],
    }).to_csv(raw / "leads.csv", sep=";", index=False)
    write_case(tmp_path, {"leads": {"path": "raw/leads.csv", "personal": ["ФИО"], "columns": {
        "ID": "lead_id", "Дата": "created_at", "Бренд": "brand", "Этап": "stage_reached", "Причина": "lost_reason"}}},
        funnel_stages=[{"id": "lead", "name": "Заявка", "journey_stage": "evaluation"}])
    data = load_case_data(load_case(tmp_path))
    reasons = data.tables["leads"]["lost_reason"].tolist()
    assert reasons == ["[имя] сказала дорого", "передумал, звонить [телефон]", "Дорого"]
    assert "ФИО" not in data.tables["leads"].columns
