#!/usr/bin/env python3
"""Generate Glossa's sample corpora under corpora/.

All texts below were written for the Glossa project (nothing is copied from the web).
About half of the documents are deliberately messy in realistic ways (CRLF, odd spaces,
zero-width and bidi characters, BOM, soft hyphens, decomposed accents, conjoining Hangul
jamo, fullwidth ASCII, C0 controls, indented code) so the normalizer has work to do.

Outputs (deterministic; no randomness):
  corpora/sample-documents.jsonl.zst  ~125 good JSON Lines documents in 50+ languages/scripts
  corpora/sample-bad-lines.jsonl.zst  good records followed by deliberately broken lines
  corpora/sample-tickets.jsonl.zst    64 clean workflow tickets (title, body, comments) in 40+
                                      languages; half carry URLs, e-mails, @mentions, ticket ids
                                      and code that must survive translation verbatim
  corpora/sample-classify.jsonl.zst   40 short documents with an expected label for 5-label
                                      classification ("support request", "bug report",
                                      "product review", "news", "other"), 8 per label

Usage: python3 scripts/make-sample-corpora.py   (needs the `zstd` command-line tool)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "corpora")

# Invisible characters as escapes so the source is unambiguous.
ZWSP = "\u200b"   # zero width space
ZWNJ = "\u200c"   # zero width non-joiner (needed in Persian, kept by the normalizer)
ZWJ = "\u200d"    # zero width joiner (emoji sequences, Indic half forms)
LRM = "\u200e"
RLM = "\u200f"
ALM = "\u061c"    # Arabic letter mark
LRE = "\u202a"
RLE = "\u202b"
PDF = "\u202c"
NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space (French punctuation)
THIN = "\u2009"
IDSP = "\u3000"   # ideographic space
SHY = "\u00ad"    # soft hyphen
BOM = "\ufeff"


def nfd(s: str) -> str:
    """Decomposed accents / conjoining Hangul jamo, as some keyboards and OSes produce."""
    return unicodedata.normalize("NFD", s)


def crlf(s: str) -> str:
    """Windows line endings."""
    return s.replace("\n", "\r\n")


# (lang_hint, source, text). lang_hint is the BCP-47 tag used by GlossaText's LanguageRegistry.
DOCS: list[tuple[str, str, str]] = [
    # --- English -------------------------------------------------------------------------
    ("en", "support-ticket", crlf(
        "Hi team,\n"
        "Since the 2.4 update the export button does nothing in Safari.   \n"
        "I tried clearing the cache and logging out again, but no luck.\t\n"
        "\n"
        "Thanks,\n"
        "Maya")),
    ("en", "code-review",
        "The retry loop never backs off, so a flaky server gets hammered.\n"
        "\n"
        "Suggested fix:\n"
        "\n"
        "    for attempt in range(5):\n"
        "        try:\n"
        "            return fetch(url)\n"
        "        except TimeoutError:\n"
        "            time.sleep(2 ** attempt)\n"
        "\n"
        "Please also add a test for the final failure."),
    ("en", "product-review",
        "Solid kettle. It boils a full litre in under three minutes and the lid no longer "
        "sticks like on my old one. Only complaint: the blue light is far too bright at night."),
    ("en", "news",
        "The city council voted on Tuesday to extend the night bus service to the eastern "
        "suburbs. The new routes start in March and will run every twenty minutes until 2 a.m."),
    ("en", "support-chat",
        f"Our on-call dev \U0001F469{ZWJ}\U0001F4BB says the fix is deployed.{NBSP}Can you refresh "
        f"and check again?{ZWSP} If the upload of the 2{THIN}GB file still fails, send us a "
        "screenshot \U0001F4F8."),
    ("en", "email",
        "Order #48213 was marked as delivered\u0007 but nothing arrived.\u0000 The tracking page "
        "shows a parcel locker I have never used."),
    ("en", "release-notes",
        f"{BOM}Release notes for version 3.1: the sync engine now handles very large attach{SHY}ments, "
        f"and the settings page loads about twice as fast. Offline mode is still experi{SHY}mental."),
    ("en", "support-ticket",
        f"The customer's name shows up as {RLE}שרה לוי{PDF} on the invoice, but the printed copy "
        "reverses the two words. Other invoices look fine."),
    ("en", "hotel-review",
        f"Booked the family room for the three of us \U0001F468{ZWJ}\U0001F469{ZWJ}\U0001F467 and found "
        "two single beds instead of a double plus a cot. The front desk was friendly but could "
        "not fix it until the next day."),
    # --- French --------------------------------------------------------------------------
    ("fr", "product-review", nfd(
        "Livraison rapide et emballage soigné. Le casque est confortable, même après deux heures "
        "de visioconférence, mais l'autonomie annoncée de 30 heures me paraît optimiste.")),
    ("fr", "support-ticket",
        f"Bonjour,{NBSP}je n'arrive plus à me connecter depuis ce matin{NNBSP}! Le code de "
        f"vérification n'arrive jamais par SMS. Pouvez-vous vérifier mon numéro{NNBSP}?"),
    ("fr", "news",
        "La mairie de Lyon a annoncé la réouverture de la piscine municipale après huit mois de "
        "travaux. Les horaires d'été s'appliqueront dès le premier juillet."),
    ("fr", "support-ticket",
        "Le rapport mensuel affiche des montants en dollars alors que notre compte est configuré "
        "en euros. Le problème concerne uniquement les exports PDF."),
    # --- German --------------------------------------------------------------------------
    ("de", "product-review", nfd(
        "Die Kaffeemühle ist leise und mahlt sehr gleichmäßig. Nach zwei Wochen täglicher "
        "Nutzung klemmt allerdings der Deckel.")),
    ("de", "support-ticket",
        f"Seit dem letzten Update stürzt die App beim Öffnen der Kunden{SHY}verwaltung ab. Bitte "
        f"um schnelle Rück{SHY}meldung, wir haben Monats{SHY}abschluss."),
    ("de", "news",
        "Die Bahn hat für das kommende Wochenende umfangreiche Bauarbeiten zwischen Hannover "
        "und Göttingen angekündigt. Reisende müssen mit Verspätungen von bis zu einer Stunde "
        "rechnen."),
    ("de", "email",
        f"Rechnung Nr.\t2024-117\n"
        f"Betrag:\t\t 1.249,00{NBSP}€\n"
        "Die Rechnung wurde doppelt gebucht.    Bitte stornieren Sie die zweite Buchung.  "),
    # --- Spanish -------------------------------------------------------------------------
    ("es", "product-review",
        "El aspirador funciona bien en suelos de madera, pero en alfombras gruesas pierde "
        "bastante potencia. La batería dura unos cuarenta minutos, lo justo para un piso pequeño."),
    ("es", "support-ticket",
        "\n\n¡Hola! Mi pedido llegó incompleto: faltan los dos cables USB-C.   \n"
        "Adjunto una foto del paquete abierto.  \n\n\n"),
    ("es", "news",
        "El Ayuntamiento de Valencia instalará trescientas nuevas estaciones de carga para "
        "bicicletas eléctricas antes de final de año. Según el concejal de movilidad, la medida "
        "busca reducir el tráfico en el centro histórico."),
    ("es", "forum-post",
        f"¿Alguien sabe por qué la factura de este mes viene con un cargo de 4,99{NBSP}€ que no "
        "reconozco? No he contratado ningún servicio adicional."),
    ("es", "support-ticket",
        "El despliegue falla con esta configuración:\n"
        "\n"
        "  services:\n"
        "    web:\n"
        "      image: nginx:1.25\n"
        "      ports:\n"
        "        - \"8080:80\"\n"
        "\n"
        "¿Alguien ve el error?"),
    # --- Portuguese ----------------------------------------------------------------------
    ("pt", "product-review",
        "Comprei a cafeteira na promoção e estou gostando muito. O café sai quente e encorpado, "
        "mas o reservatório de água é pequeno demais para uma família de quatro pessoas."),
    ("pt", "support-ticket", nfd(
        "Não consigo alterar o endereço de entrega depois de confirmar o pedido. Existe alguma "
        "opção para isso ou preciso cancelar e comprar de novo?")),
    ("pt", "news",
        "A Câmara Municipal do Porto anunciou que o metro vai funcionar até às duas da manhã "
        "durante as festas de São João."),
    # --- Italian -------------------------------------------------------------------------
    ("it", "product-review",
        "Lo zaino è robusto e le cerniere scorrono bene, però le spalline dopo qualche ora fanno "
        "male. Per il prezzo mi aspettavo un'imbottitura migliore."),
    ("it", "support-ticket",
        f"Buongiorno,  il modulo di registrazione{ZWSP} non accetta gli indirizzi email con il "
        "segno più.    Potete controllare?   "),
    ("it", "news",
        "Da lunedì il centro storico di Bologna sarà chiuso alle auto anche il sabato pomeriggio. "
        "I residenti potranno comunque entrare con il permesso che hanno già."),
    # --- Dutch ---------------------------------------------------------------------------
    ("nl", "product-review",
        "Het matras is stevig en ligt prettig, maar de eerste dagen rook het sterk naar plastic. "
        "Na een week luchten is de geur gelukkig verdwenen."),
    ("nl", "support-ticket", crlf(
        "Goedemiddag,\n"
        "Ik heb gisteren mijn abonnement opgezegd, maar vandaag is er toch weer geld afgeschreven.\n"
        "Kunt u dit terugboeken?\n")),
    # --- Polish --------------------------------------------------------------------------
    ("pl", "product-review", nfd(
        "Słuchawki mają świetny dźwięk i wygodnie leżą na uszach. Szkoda tylko, że etui jest tak "
        "duże, że nie mieści się do kieszeni kurtki.")),
    ("pl", "support-ticket",
        "Dzień dobry, od wczoraj nie mogę pobrać faktury za październik. Po kliknięciu przycisku "
        "pojawia się pusta strona."),
    # --- Czech ---------------------------------------------------------------------------
    ("cs", "news",
        "Praha od příštího měsíce rozšíří zóny placeného stání do dalších čtyř městských částí. "
        "Rezidenti si mohou parkovací oprávnění vyřídit online."),
    ("cs", "support-ticket",
        f"Dobrý den, objednávka č.{NBSP}12{THIN}345 stále čeká na odeslání, i když byla zaplacena "
        "už v pondělí. Můžete mi prosím sdělit, kdy dorazí?"),
    # --- Romanian ------------------------------------------------------------------------
    ("ro", "product-review",
        "Aparatul de cafea arată bine și se curăță ușor, dar face destul de mult zgomot "
        "dimineața. Altfel, sunt mulțumit de el."),
    # Legacy cedilla letters (ţ, ş) instead of comma-below, as older keyboards produce.
    ("ro", "support-ticket",
        "Bună ziua, nu pot să mă conectez la contul meu după schimbarea parolei.  \n"
        "Aţi putea să verificaţi dacă adresa mea de e-mail este corectă? Mulţumesc frumos!  "),
    # --- Swedish -------------------------------------------------------------------------
    ("sv", "product-review",
        "Cykelhjälmen sitter bra och känns stadig, men spännet är lite krångligt att få på sig "
        "med handskar."),
    ("sv", "support-ticket", nfd(
        "Hej! Jag har inte fått någon bekräftelse på min bokning av stugan i Åre. Kan ni kolla "
        "att betalningen gick igenom?")),
    # --- Finnish -------------------------------------------------------------------------
    ("fi", "news",
        "Helsingin kaupunki avaa uuden kirjaston Itä-Helsinkiin ensi syksynä. Kirjastossa on "
        "myös työpajatiloja ja lasten leikkihuone."),
    ("fi", "support-ticket",
        "Hei,\ttilaukseni saapui, mutta laturi puuttui paketista.  \n"
        "Voitteko lähettää sen erikseen?   "),
    # --- Hungarian -----------------------------------------------------------------------
    ("hu", "product-review",
        "A porszívó erős és csendes, a szűrőt is könnyű tisztítani. Az akkumulátor viszont alig "
        "bírja ki a fél órát."),
    ("hu", "support-ticket", nfd(
        "Jó napot! A tegnapi frissítés óta nem jelennek meg az értesítések a telefonomon. "
        "Mit tudok tenni? Előre is köszönöm.")),
    # --- Turkish -------------------------------------------------------------------------
    ("tr", "product-review",
        "Ürün zamanında geldi ama kutusu ezilmişti. Neyse ki içindeki bardaklar sağlam çıktı."),
    ("tr", "support-ticket",
        f"Şifremi sıfırlamak istiyorum fakat e-posta adresime hiçbir bağlantı gelmiyor.{NBSP} "
        f"İstanbul ofisinizi aramayı da{ZWSP} denedim, kimse açmadı."),
    # --- Azerbaijani ---------------------------------------------------------------------
    ("az", "news",
        "Bakıda yeni metro stansiyasının tikintisi gələn il başa çatacaq. Stansiya şəhərin "
        "şimal hissəsində yerləşəcək."),
    ("az", "support-ticket",
        "Salam, sifarişim üç gündür yoldadır, amma izləmə nömrəsi işləmir. Zəhmət olmasa "
        "yoxlayın."),
    # --- Russian -------------------------------------------------------------------------
    ("ru", "product-review", nfd(
        "Чайник хороший, быстро закипает и не пахнет пластиком. Единственный минус — короткий "
        "шнур, всё ещё приходится ставить его прямо у розетки.")),
    ("ru", "support-ticket", crlf(
        "Здравствуйте!\n"
        f"Не приходит код подтверждения на номер +7{NBSP}912{NBSP}345-67-89.\n"
        "Пробовала трижды, в том числе через другой браузер.")),
    ("ru", "news",
        "В Казани открылся новый пешеходный мост через реку Казанку. По словам мэрии, он "
        "сократит путь от жилых кварталов до набережной почти вдвое."),
    ("ru", "support-ticket",
        "При выполнении запроса падает ошибка:\n"
        "\n"
        "\tSELECT id, name\n"
        "\tFROM users\n"
        "\tWHERE created_at > '2024-01-01';\n"
        "\n"
        "В логах только «timeout»."),
    # --- Ukrainian -----------------------------------------------------------------------
    ("uk", "product-review",
        "Рюкзак дуже зручний, має багато кишень і не промокає під дощем. Рекомендую всім, хто "
        "їздить на роботу велосипедом."),
    ("uk", "support-ticket",
        f"Доброго дня! Не можу змінити ім’я в профілі:{NBSP}після збереження воно знову стає "
        "старим."),
    # --- Bulgarian -----------------------------------------------------------------------
    ("bg", "news",
        "Столичната община ще засади над хиляда нови дървета в кварталите около Южния парк "
        "през есента."),
    ("bg", "support-ticket",
        "Здравейте, поръчката ми пристигна с повреден кабел. Мога ли да го заменя, без да "
        "връщам целия продукт?"),
    # --- Serbian (Cyrillic and Latin) ----------------------------------------------------
    ("sr", "support-ticket",
        "Поштовани, апликација се гаси сваки пут када покушам да платим картицом. Молим вас да "
        "проверите шта је проблем."),
    ("sr", "product-review",
        "Kupio sam punjač pre nedelju dana i već je prestao da radi. Isporuka je kasnila, ali je "
        "kurir bio ljubazan. Da li mogu da ga zamenim?"),
    # --- Greek ---------------------------------------------------------------------------
    ("el", "product-review",
        "Η καφετιέρα είναι εύκολη στη χρήση και ο καφές βγαίνει πολύ ζεστός. Θα ήθελα μόνο το "
        "δοχείο νερού να ήταν λίγο μεγαλύτερο."),
    # U+037E GREEK QUESTION MARK (canonically equivalent to ';') and decomposed tonos.
    ("el", "support-ticket", nfd(
        "Καλησπέρα, πότε θα σταλεί η παραγγελία μου\u037e Έχουν περάσει ήδη πέντε μέρες.")),
    # --- Arabic --------------------------------------------------------------------------
    ("ar", "news",
        "أعلنت وزارة النقل عن افتتاح خط حافلات جديد يربط المطار بوسط المدينة. وستعمل الحافلات "
        "على مدار الساعة بدءًا من الأسبوع المقبل."),
    ("ar", "support-ticket",
        f"مرحبًا، لم يصلني رمز التحقق على الرقم {LRM}+966 55 123 4567{LRM} حتى الآن.{RLM} "
        f"{RLE}تم إلغاء الطلب رقم 5521 تلقائيًا{PDF}، هل يمكنكم المساعدة؟"),
    ("ar", "product-review",
        "الخلاط قوي وسهل التنظيف، لكن صوته مرتفع جدًا في الصباح. بشكل عام أنا راضٍ عن الشراء."),
    # --- Egyptian Arabic -----------------------------------------------------------------
    ("arz", "support-chat",
        "الأوردر وصل متأخر يومين، والكرتونة كانت مفتوحة من فوق. ياريت حد يكلمني عشان أعرف "
        "هرجّعه إزاي."),
    ("arz", "product-review",
        f"الموبايل حلو بس البطارية بتخلص بسرعة أوي.{ALM} لو لعبت عليه ساعتين هتلاقيه محتاج "
        f"شحن،  بس الكاميرا{NBSP}تجنن."),
    # --- Persian (ZWNJ is part of the spelling and must be kept) --------------------------
    ("fa", "support-ticket",
        f"سلام، می{ZWNJ}خواهم سفارشم را لغو کنم چون آدرس را اشتباه وارد کرده{ZWNJ}ام.{RLM}  "
        f"لطفاً{NBSP}راهنمایی کنید."),
    ("fa", "product-review",
        f"این هدفون صدای خیلی خوبی دارد و باتری{ZWNJ}اش تا دو روز دوام می{ZWNJ}آورد. فقط "
        f"جعبه{ZWNJ}اش کمی آسیب دیده بود."),
    ("fa", "news",
        f"شهرداری تهران اعلام کرد که از ۱۵ مهر ساعت کار مترو تا نیمه{ZWNJ}شب افزایش "
        f"می{ZWNJ}یابد."),
    # --- Urdu ----------------------------------------------------------------------------
    ("ur", "support-ticket",
        "میرا آرڈر ابھی تک نہیں پہنچا، حالانکہ ویب سائٹ پر لکھا ہے کہ یہ کل ڈیلیور ہو چکا ہے۔ "
        "براہ کرم جلد از جلد چیک کریں۔"),
    ("ur", "product-review",
        "یہ پنکھا بہت خاموشی سے چلتا ہے اور بجلی بھی کم خرچ کرتا ہے۔ گرمیوں کے لیے بہترین "
        "خریداری ہے۔"),
    # --- Hebrew --------------------------------------------------------------------------
    ("he", "support-ticket",
        f"שלום, ניסיתי להתחבר לחשבון דרך {LRE}Google Chrome{PDF} ולא הצלחתי.{RLM} מופיעה "
        f"הודעת שגיאה {LRM}\"Error 403\"{LRM}."),
    ("he", "product-review",
        "המכונה מכינה קפה טעים ומהר, אבל הניקוי שלה מסובך למדי. הייתי ממליץ עליה רק למי שיש לו "
        "סבלנות."),
    ("he", "news",
        "עיריית חיפה הודיעה כי הכרמלית תיסגר לשבועיים לצורך עבודות תחזוקה. התושבים מתבקשים "
        "להשתמש בקווי האוטובוס החלופיים."),
    # --- Hindi ---------------------------------------------------------------------------
    # U+095B (precomposed ज़) is a composition exclusion: NFC turns it into ज + nukta.
    ("hi", "product-review",
        "यह मिक्सर बहुत अच्छा है और चटनी मिनटों में बन जाती है। बस आवाज़ थोड़ी \u095b\u094dयादा है।"),
    ("hi", "support-ticket",
        f"नमस्ते, मेरा पासवर्ड रीसेट नहीं हो रहा है। क\u094d{ZWJ}या आप मेरी मदद कर सकते हैं?"),
    ("hi", "news",
        "दिल्ली मेट्रो ने घोषणा की है कि अगले महीने से रविवार को भी सुबह पाँच बजे से सेवाएँ "
        "शुरू होंगी।"),
    # --- Marathi (eyelash ra written with ZWJ) -------------------------------------------
    ("mr", "news",
        f"पुण्यात आज जोरदार वार\u094d{ZWJ}यासह पाऊस पडला. अनेक रस्त्यांवर पाणी साचले होते."),
    ("mr", "product-review",
        "हा कुकर वापरायला सोपा आहे आणि भात छान शिजतो. झाकण मात्र थोडं घट्ट बसतं."),
    # --- Nepali --------------------------------------------------------------------------
    ("ne", "news",
        "काठमाडौंमा आज बिहानदेखि भारी वर्षा भइरहेको छ। धेरै सडकमा पानी जमेको छ।"),
    ("ne", "support-ticket",
        "नमस्ते, मैले अर्डर गरेको सामान अझै आइपुगेको छैन। कृपया कहिले आउँछ भनेर जानकारी "
        "दिनुहोस्।"),
    # --- Bengali (র‍্য written with ZWJ) ---------------------------------------------------
    ("bn", "product-review",
        "ফোনটার ক্যামেরা দারুণ, তবে ব্যাটারি এক দিনও চলে না। দামের তুলনায় ঠিক আছে।"),
    ("bn", "support-ticket",
        f"আমার ল্যাপটপের র{ZWJ}\u09cdযাম বাড়ানোর পরেও সমস্যা যায়নি।  অ্যাকাউন্টে লগইন করতে "
        "পারছি না।"),
    # --- Punjabi (Gurmukhi) --------------------------------------------------------------
    ("pa", "support-ticket",
        "ਮੇਰਾ ਆਰਡਰ ਹਾਲੇ ਤੱਕ ਨਹੀਂ ਪਹੁੰਚਿਆ। ਕਿਰਪਾ ਕਰਕੇ ਛੇਤੀ ਜਾਣਕਾਰੀ ਦਿਓ।"),
    # U+0A36 (precomposed ਸ਼) and U+0A5E (ਫ਼) are composition exclusions.
    ("pa", "news",
        "ਅੰਮ੍ਰਿਤਸਰ ਵਿੱਚ ਅੱਜ ਮੌਸਮ ਸਾ\u0a5e ਰਹੇਗਾ ਅਤੇ \u0a36ਾਮ ਨੂੰ ਹਲਕੀ ਹਵਾ ਚੱਲੇਗੀ।"),
    # --- Gujarati ------------------------------------------------------------------------
    ("gu", "product-review",
        "આ પંખો ખૂબ શાંત છે અને વીજળી પણ ઓછી વાપરે છે. હું બધાને ભલામણ કરીશ."),
    ("gu", "support-ticket",
        "નમસ્તે, મારું પાર્સલ ખોટા સરનામે પહોંચી ગયું છે. કૃપા કરીને મદદ કરો."),
    # --- Tamil ---------------------------------------------------------------------------
    ("ta", "product-review",
        "இந்த கைபேசியின் திரை மிகவும் தெளிவாக உள்ளது. ஆனால் பேட்டரி சீக்கிரம் தீர்ந்துவிடுகிறது."),
    ("ta", "news", nfd(
        "சென்னையில் இன்று மாலை கனமழை பெய்யும் என்று வானிலை ஆய்வு மையம் தெரிவித்துள்ளது. "
        "பொதுமக்கள் கவனமாக இருக்குமாறு கேட்டுக்கொள்ளப்பட்டுள்ளனர்.")),
    # --- Telugu --------------------------------------------------------------------------
    ("te", "product-review",
        "ఈ ఫోన్ కెమెరా చాలా బాగుంది, కానీ బ్యాటరీ త్వరగా అయిపోతుంది."),
    ("te", "support-ticket",
        f"నమస్కారం, నా ఆర్డర్ ఇంకా రాలేదు.{IDSP}దయచేసి ఎప్పుడు వస్తుందో చెప్పండి.  "),
    # --- Kannada -------------------------------------------------------------------------
    ("kn", "news",
        "ಬೆಂಗಳೂರಿನಲ್ಲಿ ಇಂದು ಸಂಜೆ ಭಾರಿ ಮಳೆಯಾಗುವ ಸಾಧ್ಯತೆ ಇದೆ ಎಂದು ಹವಾಮಾನ ಇಲಾಖೆ ತಿಳಿಸಿದೆ."),
    ("kn", "product-review",
        "ಈ ಮಿಕ್ಸರ್ ತುಂಬಾ ಚೆನ್ನಾಗಿದೆ, ಆದರೆ ಸ್ವಲ್ಪ ಹೆಚ್ಚು ಶಬ್ದ ಮಾಡುತ್ತದೆ."),
    # --- Malayalam (old-style chillu: consonant + virama + ZWJ) ---------------------------
    ("ml", "news",
        f"കൊച്ചിയിൽ പുതിയ മെട്രോ സ്റ്റേഷന\u0d4d{ZWJ} അടുത്ത മാസം തുറക്കും."),
    ("ml", "product-review",
        "ഈ ഫോണിന്റെ ക്യാമറ വളരെ നല്ലതാണ്, പക്ഷേ ബാറ്ററി പെട്ടെന്ന് തീരുന്നു."),
    # --- Sinhala (ශ්‍රී and විද්‍යා need ZWJ) ----------------------------------------------
    ("si", "support-ticket",
        "මගේ ඇණවුම තවමත් ලැබී නැහැ. කරුණාකර ඉක්මනින් පරීක්ෂා කරන්න."),
    ("si", "news",
        f"ශ\u0dca{ZWJ}රී ලංකාවේ දකුණු පළාතට අද වැසි ඇති විය හැකි බව කාලගුණ විද\u0dca{ZWJ}යා "
        "දෙපාර්තමේන්තුව පවසයි."),
    # --- Thai (ZWSP as word-break hints, common in Thai web text) -------------------------
    ("th", "product-review",
        "สินค้าส่งมาเร็วมาก แพ็กของดี แต่สีจริงเข้มกว่าในรูปนิดหน่อย"),
    ("th", "support-ticket",
        f"สวัสดีครับ ผม{ZWSP}ไม่{ZWSP}สามารถ{ZWSP}เข้าสู่ระบบ{ZWSP}ได้{ZWSP}ตั้งแต่{ZWSP}เมื่อวาน "
        f"รบกวน{ZWSP}ช่วย{ZWSP}ตรวจสอบ{ZWSP}ให้{ZWSP}ด้วย{ZWSP}ครับ"),
    # --- Lao -----------------------------------------------------------------------------
    ("lo", "product-review",
        "ສິນຄ້າມາຮອດໄວ ແລະ ຄຸນນະພາບດີຫຼາຍ."),
    ("lo", "support-ticket",
        "ສະບາຍດີ, ຂ້ອຍບໍ່ສາມາດເຂົ້າລະບົບໄດ້. ກະລຸນາຊ່ວຍກວດສອບແດ່."),
    # --- Khmer ---------------------------------------------------------------------------
    ("km", "product-review",
        "ទំនិញមកដល់លឿន ហើយគុណភាពល្អណាស់។"),
    ("km", "support-ticket",
        f"សួស្តី ខ្ញុំ{ZWSP}មិន{ZWSP}អាច{ZWSP}ចូល{ZWSP}គណនី{ZWSP}របស់{ZWSP}ខ្ញុំ{ZWSP}បាន{ZWSP}ទេ។ "
        "សូមជួយពិនិត្យផង។"),
    # --- Burmese -------------------------------------------------------------------------
    ("my", "product-review",
        "ပစ္စည်းက မြန်မြန်ရောက်တယ်၊ အရည်အသွေးလည်း ကောင်းပါတယ်။"),
    ("my", "support-ticket",
        "မင်္ဂလာပါ၊ ကျွန်တော့်အကောင့်ထဲ ဝင်လို့မရပါဘူး။ ကူညီပေးပါ။"),
    # --- Vietnamese ----------------------------------------------------------------------
    ("vi", "product-review", nfd(
        "Nồi cơm điện nấu rất nhanh, cơm chín đều và thơm. Tuy nhiên, nắp hơi khó vệ sinh.")),
    ("vi", "support-ticket",
        "Chào anh chị, tôi đã thanh toán đơn hàng nhưng vẫn chưa nhận được email xác nhận. "
        "Mong được hỗ trợ sớm."),
    ("vi", "news",
        "Hà Nội sẽ mở thêm hai tuyến xe buýt điện nối sân bay Nội Bài với trung tâm thành phố "
        "từ tháng sau."),
    # --- Indonesian ----------------------------------------------------------------------
    ("id", "product-review",
        "Barangnya sampai dengan cepat dan dikemas rapi. Sayangnya, warna aslinya agak berbeda "
        "dari foto di toko."),
    ("id", "support-chat",
        "Halo,  saya sudah transfer sejak kemarin\ttetapi status pesanan masih menunggu "
        "pembayaran.   \nMohon dicek ya.  "),
    # --- Malay ---------------------------------------------------------------------------
    ("ms", "news",
        "Kerajaan negeri akan membina dua buah jambatan baharu bagi mengurangkan kesesakan lalu "
        "lintas di pusat bandar."),
    ("ms", "support-ticket",
        "Saya tidak dapat log masuk ke akaun saya selepas menukar kata laluan. Boleh tolong semak?"),
    # --- Tagalog -------------------------------------------------------------------------
    ("tl", "product-review",
        "Maganda ang kalidad ng damit at mabilis dumating ang order ko. Medyo maliit lang ang "
        "sukat kaya bumili ka ng isang size na mas malaki."),
    ("tl", "support-ticket", crlf(
        "Magandang umaga po!\n"
        "Hindi ko pa po natatanggap ang refund ko kahit isang linggo na ang nakalipas.\n")),
    # --- Swahili -------------------------------------------------------------------------
    ("sw", "product-review",
        "Simu hii ina kamera nzuri sana, lakini betri yake inaisha haraka. Kwa bei hii, ni sawa."),
    ("sw", "support-ticket",
        "Habari, nimelipia oda yangu tangu jana lakini bado sijapokea ujumbe wa uthibitisho. "
        "Tafadhali nisaidieni."),
    # --- Chinese (Simplified) ------------------------------------------------------------
    ("zh-Hans", "product-review",
        "这款电水壶烧水很快，外观也很漂亮。唯一的缺点是把手有点烫，需要小心使用。"),
    ("zh-Hans", "support-ticket",
        f"您好，我的订单号是{IDSP}ＳＨ２０２４０５１８，已经付款三天了还没有发货。{IDSP}{IDSP}"
        "请尽快帮我查一下，谢谢！"),
    ("zh-Hans", "news",
        "北京市今天宣布，明年将新开通三条地铁线路，进一步缓解早晚高峰的交通压力。"),
    # --- Chinese (Traditional) -----------------------------------------------------------
    ("zh-Hant", "product-review",
        "這台吸塵器吸力很強，但是電池只能用二十分鐘左右。整體來說還算滿意。"),
    ("zh-Hant", "support-ticket",
        f"{IDSP}{IDSP}您好，我昨天收到的包裹外箱破損，裡面的杯子也碎了一個。請問可以換貨嗎？{IDSP}\n"),
    # --- Cantonese -----------------------------------------------------------------------
    ("yue", "support-chat",
        "部機用咗一個禮拜就開唔到機，打電話去客服又冇人聽，真係好嬲。"),
    ("yue", "support-chat",
        "我哋今晚八點之後先會喺屋企，你可唔可以幫我改送貨時間？唔該晒！"),
    # --- Japanese ------------------------------------------------------------------------
    ("ja", "product-review",
        "このイヤホンは音質が良く、長時間つけていても耳が痛くなりません。ただ、ケースのふたが"
        "少し開けにくいです。"),
    # Fullwidth ASCII, halfwidth katakana, ideographic space, decomposed dakuten (か + U+3099).
    ("ja", "support-ticket",
        f"お世話になっております。注文番号ＡＢ－１２３４５の商品がまだ届いていません。{IDSP}"
        "ｻﾎﾟｰﾄ窓口にも電話しましたか\u3099、つなか\u3099りませんでした。"),
    ("ja", "news",
        "気象庁によると、明日は関東地方で午後から雨が強まる見込みです。外出の際は傘をお持ちください。"),
    # --- Korean --------------------------------------------------------------------------
    ("ko", "product-review",
        "배송이 빠르고 포장도 꼼꼼했어요. 다만 설명서가 영어로만 되어 있어서 조금 불편했습니다."),
    # Conjoining jamo (NFD Hangul), as produced by some macOS file names and old IMEs.
    ("ko", "support-ticket", nfd(
        "안녕하세요, 비밀번호를 변경한 후로 로그인이 되지 않습니다. 확인 부탁드립니다.")),
    ("ko", "news",
        "서울시는 다음 달부터 심야 버스 노선을 다섯 개 더 늘린다고 밝혔다."),
    # --- Georgian ------------------------------------------------------------------------
    ("ka", "product-review",
        "ამანათი დროულად მოვიდა და ხარისხიც კარგია. გირჩევთ ამ მაღაზიას."),
    ("ka", "news",
        f"თბილისში ხვალ მოსალოდნელია წვიმა და ძლიერი ქარი.{NBSP}{NBSP}"),
    # --- Armenian ------------------------------------------------------------------------
    ("hy", "support-ticket",
        "Պատվերս դեռ չի հասել, թեև վճարել եմ երեք օր առաջ։ Խնդրում եմ ստուգել։"),
    ("hy", "product-review",
        "Այս սրճեփը շատ հարմար է, և սուրճը ստացվում է համեղ։"),
]

# Characters written as \uXXXX escapes in the JSON output (format characters, space
# separators other than U+0020, line/paragraph separators), so the file is unambiguous.
ESCAPED_CATEGORIES = {"Cf", "Zs", "Zl", "Zp"}


def to_json_line(obj: object) -> str:
    raw = json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))
    out = []
    for ch in raw:
        if ch != " " and unicodedata.category(ch) in ESCAPED_CATEGORIES:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def record(doc_id: str, lang: str, source: str, text: str) -> dict:
    return {"id": doc_id, "text": text, "meta": {"source": source, "lang_hint": lang}}


def documents_bytes() -> bytes:
    lines = []
    for i, (lang, source, text) in enumerate(DOCS, start=1):
        lines.append(to_json_line(record(f"doc-{i:04d}", lang, source, text)))
    return ("\n".join(lines) + "\n").encode("utf-8")


def bad_lines_bytes() -> bytes:
    """Good records first, then broken lines mixed with a few good ones.

    Line by line (1-based):
      1-6  good records (6 carries an escaped surrogate *pair*, which is valid JSON)
      7    malformed JSON (single quotes)
      8    truncated record (no closing quote/brace)
      9    lone surrogate escape \\ud800 inside a string
      10   good
      11   record without "text"
      12   "text" is a number
      13   raw invalid UTF-8 bytes (Latin-1 é, 0x80, 0xFF, an encoded surrogate)
      14   empty line
      15   good
      16   JSON array instead of an object
      17   good; the file ends without a trailing newline
    """
    def good(n: int, lang: str, source: str, text: str) -> bytes:
        return to_json_line(record(f"bad-file-{n:04d}", lang, source, text)).encode("utf-8")

    meta = '"meta": {"source": "support-ticket", "lang_hint": "en"}'
    lines: list[bytes] = [
        good(1, "en", "support-ticket", "The invoice PDF opens, but every page after the first is blank."),
        good(2, "fr", "product-review", "Bonne qualité, mais la taille est un peu petite."),
        good(3, "ja", "support-chat", "パスワードを変更したのに、古いパスワードでログインできてしまいます。"),
        good(4, "ar", "support-ticket", f"الطلب رقم {LRM}7731{LRM} لم يصل بعد.{RLM}"),
        good(5, "de", "news", f"Die Brücke bleibt bis Freitag gesperrt.{NBSP} Umleitungen sind ausgeschildert."),
        # ensure_ascii=True writes the emoji as a surrogate pair escape: "\ud83d\ude00".
        json.dumps({"id": "bad-file-0006", "text": "Thanks, it works now \U0001F600",
                    "meta": {"source": "support-chat", "lang_hint": "en"}}).encode("ascii"),
        b"{'id': 'bad-file-0007', 'text': 'single quotes are not JSON'}",
        ('{"id": "bad-file-0008", "text": "this record was cut off in the mid' ).encode("utf-8"),
        ('{"id": "bad-file-0009", "text": "broken emoji \\ud800 here", ' + meta + '}').encode("utf-8"),
        good(10, "es", "support-ticket", "La aplicación se cierra al abrir el carrito."),
        ('{"id": "bad-file-0011", "meta": {"source": "news", "lang_hint": "en"}}').encode("utf-8"),
        ('{"id": "bad-file-0012", "text": 42, ' + meta + '}').encode("utf-8"),
        b'{"id": "bad-file-0013", "text": "Caf\xe9 cr\xe8me \x80 prix \xff, surrogate \xed\xa0\x80 bytes", '
        + meta.encode("utf-8") + b"}",
        b"",
        good(15, "ru", "support-ticket", "Не работает кнопка «Оплатить» в мобильной версии."),
        b'["bad-file-0016", "an array, not an object"]',
        good(17, "hi", "product-review", "सामान अच्छा है, लेकिन डिलीवरी में देर हुई।"),
    ]
    return b"\n".join(lines)  # deliberately no newline after the last line


# --- Workflow tickets ------------------------------------------------------------------------
# (lang_hint, project, priority, title, body, comments). About half carry things that must stay
# verbatim through translation: URLs, e-mail addresses, @mentions, ticket ids, `inline code`,
# and (in six tickets) a fenced code block in the body.
TICKETS: list[tuple[str, str, str, str, str, list[str]]] = [
    ("en", "web-shop", "high",
        "Checkout returns 502 after payment step",
        "Since 09:40 UTC customers get a 502 right after entering their card details. See "
        "https://status.example.com/incidents/42, it looks related to OPS-4711. @maria.k can you "
        "check the gateway logs?",
        ["Gateway pods restarted twice in the last hour.",
         "Rolled back to v5.2.1, errors dropped to zero."]),
    ("de", "billing-portal", "medium",
        "Rechnungs-PDF zeigt falsches Datum",
        "Auf allen Rechnungen vom März steht als Rechnungsdatum der 1. Januar. Betroffen sind nur "
        "Kunden mit Jahresabo.",
        ["Kann ich mit einem Testkonto nachstellen."]),
    ("fr", "mobile-app", "high",
        "L'application plante au démarrage sur Android 14",
        "Depuis la version 3.8.0, l'application se ferme dès l'écran d'accueil. Trace obtenue avec "
        "`adb logcat` :\n"
        "```text\n"
        "FATAL EXCEPTION: main\n"
        "java.lang.NullPointerException at SplashActivity.kt:57\n"
        "```",
        ["Reproduit sur un Pixel 7.",
         "Correctif en revue dans MOB-882, @julien.b pour relecture."]),
    ("es", "auth-service", "medium",
        "No llegan los correos de restablecimiento",
        "Varios usuarios dicen que el enlace para restablecer la contraseña nunca llega. Revisé la "
        "cola y los mensajes salen desde noreply@example.com sin errores.",
        ["¿Puede ser el filtro antispam de Outlook?"]),
    ("pt", "data-platform", "low",
        "Painel de vendas demora a carregar",
        "O painel de vendas leva quase um minuto para abrir às segundas-feiras de manhã. Nos outros "
        "dias abre em poucos segundos.",
        []),
    ("it", "infra", "high",
        "Il certificato TLS scade tra tre giorni",
        "Il certificato di api.example.com scade venerdì e il rinnovo automatico non è partito. Il "
        "log è in https://ci.example.com/jobs/certbot/118, vedi anche INFRA-209.",
        ["@luca.r ci penso io stasera."]),
    ("nl", "web-shop", "medium",
        "Kortingscode wordt twee keer afgetrokken",
        "Bij bestellingen met de code ZOMER10 wordt de korting twee keer toegepast als de klant de "
        "pagina vernieuwt. Dat kost ons geld.",
        ["Oorzaak gevonden in de sessielogica, fix volgt vandaag."]),
    ("pl", "docs-site", "low",
        "Niedziałający link w dokumentacji API",
        "Na stronie o uwierzytelnianiu link do przykładów prowadzi do "
        "https://docs.example.com/v1/auth/examples, który zwraca błąd 404. Powinien wskazywać na "
        "wersję v2.",
        ["Poprawione w DOCS-57."]),
    ("cs", "mobile-app", "medium",
        "Notifikace chodí se zpožděním",
        "Push notifikace o nových zprávách přicházejí až po deseti minutách. Problém se týká jen "
        "zařízení s iOS 17.",
        ["Apple hlásí výpadek APNs, sledujeme to."]),
    ("ro", "billing-portal", "high",
        "Plăți duble la reînnoirea abonamentului",
        "Trei clienți au fost taxați de două ori la reînnoirea automată. Detalii în BILL-1023; vă "
        "rugăm să contactați finance@example.org înainte de orice rambursare.",
        ["@ana.p a verificat: este un retry după timeout."]),
    ("sv", "infra", "medium",
        "Diskutrymmet på byggservern håller på att ta slut",
        "Byggservern build-03 har bara 4 % ledigt. Jag rensade gamla images med:\n"
        "```bash\n"
        "docker image prune -a --filter \"until=168h\"\n"
        "```\n"
        "men det räcker bara några dagar.",
        ["Vi borde köra det som ett cron-jobb."]),
    ("fi", "search-api", "low",
        "Hakutulokset väärässä järjestyksessä",
        "Kun hakee sanalla \"takki\", uusimmat tuotteet näkyvät viimeisinä, vaikka järjestykseksi "
        "on valittu \"uusin ensin\". Ongelma alkoi eilisen päivityksen jälkeen.",
        []),
    ("hu", "auth-service", "high",
        "Nem működik a kétlépcsős azonosítás",
        "A hitelesítő alkalmazás kódjait a rendszer elutasítja, ha a telefon órája egy percet késik. "
        "Javaslom, hogy növeljük a tűréshatárt (`totp_skew`) legalább egy lépésre.",
        ["@gabor.n: a beállítás az AUTH-330 ágban van."]),
    ("tr", "web-shop", "medium",
        "Sipariş onay e-postası gelmiyor",
        "Dünden beri müşteriler sipariş onay e-postası almıyor. SMTP sunucusundaki kuyruk boş "
        "görünüyor ve hata kaydı da yok.",
        ["SPF kaydını kontrol ettiniz mi?", "Evet, sorun DNS tarafında değil."]),
    ("ru", "data-platform", "high",
        "Ночная выгрузка упала с ошибкой памяти",
        "Задание `nightly-export` упало в 03:12. Последние строки лога:\n"
        "```\n"
        "ERROR OutOfMemoryError: Java heap space\n"
        "  at ExportJob.flush(ExportJob.java:214)\n"
        "```",
        ["Подняла лимит до 8 ГБ и перезапустила. @ivan.s, посмотри, пожалуйста, DATA-512."]),
    ("ru", "mobile-app", "low",
        "Опечатка на экране настроек",
        "В разделе «Уведомления» заголовок написан как «Уведомлния». Мелочь, но бросается в глаза.",
        []),
    ("uk", "billing-portal", "medium",
        "Не відображається історія платежів",
        "Після входу в особистий кабінет вкладка «Платежі» порожня, хоча оплати проходять. Знімок "
        "екрана я надіслала на support@example.com.",
        ["Дякуємо, передали розробникам."]),
    ("bg", "docs-site", "low",
        "Остарял пример в ръководството",
        "В ръководството за инсталация все още се използва `npm install` вместо `npm ci`. Така се "
        "инсталират различни версии на зависимостите.",
        ["Съгласен съм, ще го оправя в DOCS-61."]),
    ("el", "infra", "high",
        "Η βάση δεδομένων δεν απαντά",
        "Από τις 14:05 η κύρια βάση δεδομένων απορρίπτει νέες συνδέσεις. Η υπηρεσία παραγγελιών "
        "είναι εκτός λειτουργίας.",
        ["Συμπληρώθηκε το όριο συνδέσεων, το αυξάνουμε τώρα.", "Η υπηρεσία επανήλθε στις 14:32."]),
    ("ar", "web-shop", "medium",
        "خطأ في حساب ضريبة القيمة المضافة",
        "تظهر ضريبة القيمة المضافة بنسبة 5% بدلاً من 15% في الطلبات المرسلة إلى الرياض. يرجى "
        "مراجعة التذكرة TAX-88.",
        ["@omar.h سأصلح جدول الضرائب اليوم."]),
    ("ar", "mobile-app", "low",
        "اقتراح: إضافة الوضع الليلي",
        "يطلب كثير من المستخدمين إضافة وضع ليلي إلى التطبيق، لأن الخلفية البيضاء مزعجة للعين في "
        "المساء.",
        []),
    ("fa", "auth-service", "medium",
        f"ورود با حساب گوگل کار نمی{ZWNJ}کند",
        f"بعد از کلیک روی «ورود با گوگل» صفحه سفید می{ZWNJ}شود و هیچ پیام خطایی نمایش داده "
        f"نمی{ZWNJ}شود. این مشکل فقط در فایرفاکس دیده می{ZWNJ}شود.",
        ["احتمالاً به تنظیمات کوکی مرورگر مربوط است."]),
    ("he", "billing-portal", "high",
        "חשבוניות לא נשלחות ללקוחות",
        "מאז אתמול החשבוניות החודשיות לא נשלחות בדוא״ל. ביומנים בכתובת "
        "https://logs.example.com/billing מופיעה שגיאת חיבור לשרת הדואר.",
        ["@dana.l בודקת את זה עכשיו."]),
    ("hi", "search-api", "medium",
        "हिंदी खोज में गलत परिणाम",
        "जब उपयोगकर्ता हिंदी में \"जूते\" खोजते हैं, तो परिणामों में कपड़े दिखते हैं। शायद टोकनाइज़र "
        "मात्राओं को ठीक से नहीं संभाल रहा है।",
        ["SRCH-140 में इसके लिए टेस्ट जोड़ दिया गया है।"]),
    ("bn", "mobile-app", "low",
        "অ্যাপের লেখা খুব ছোট",
        "ছোট ফোনে মেনুর লেখা পড়া কঠিন। সেটিংসে ফন্টের আকার বাড়ানোর কোনো বিকল্প নেই।",
        []),
    ("ta", "web-shop", "medium",
        "பணம் செலுத்திய பிறகு ஆர்டர் தெரியவில்லை",
        "வாடிக்கையாளர் UPI மூலம் பணம் செலுத்தினார், ஆனால் ஆர்டர் பட்டியலில் அது தோன்றவில்லை. "
        "ஆர்டர் எண் ORD-7781.",
        ["@karthik.r கட்டண நுழைவாயில் பதிவுகளைச் சரிபார்க்கவும்."]),
    ("th", "infra", "low",
        "ขอเพิ่มพื้นที่จัดเก็บสำหรับทีมออกแบบ",
        "ทีมออกแบบต้องการพื้นที่เพิ่มอีก 500 GB สำหรับไฟล์ของโปรเจกต์ใหม่ "
        "รบกวนดำเนินการภายในสัปดาห์นี้ครับ",
        ["อนุมัติแล้ว รอทีมไอทีดำเนินการ"]),
    ("vi", "data-platform", "high",
        "Báo cáo doanh thu bị trùng dữ liệu",
        "Báo cáo doanh thu tháng 5 bị tính trùng các đơn hàng ở Hà Nội. Có thể job `dedupe_orders` "
        "không chạy sau khi đổi lịch. Xem thêm DATA-519.",
        ["@minh.t đã chạy lại job, số liệu đã đúng."]),
    ("id", "web-shop", "medium",
        "Ongkos kirim tidak muncul di keranjang",
        "Untuk alamat di luar Jawa, ongkos kirim tidak dihitung dan tombol bayar tetap tidak aktif. "
        "Akibatnya pelanggan tidak bisa menyelesaikan pesanan.",
        ["Sudah dicek, API kurir mengembalikan timeout."]),
    ("ms", "billing-portal", "low",
        "Tukar alamat e-mel untuk invois",
        "Sila tukar alamat e-mel penerima invois kami kepada akaun@example.org. Alamat lama tidak "
        "digunakan lagi.",
        ["Sudah dikemas kini. Terima kasih."]),
    ("tl", "mobile-app", "medium",
        "Hindi ma-upload ang larawan sa profile",
        "Kapag nag-upload ako ng larawang mas malaki sa 5 MB, lumalabas ang \"Error 413\" at walang "
        "nangyayari. Sana ay magpakita ng mas malinaw na mensahe.",
        []),
    ("sw", "helpdesk", "low",
        "Siwezi kubadilisha lugha ya akaunti",
        "Nimejaribu kubadilisha lugha kuwa Kiswahili kwenye mipangilio, lakini ukurasa unarudi "
        "kwenye Kiingereza kila ninapoingia tena.",
        ["Asante, tumeripoti kwa timu kupitia I18N-27."]),
    ("zh-Hans", "infra", "high",
        "生产环境 Redis 内存占用过高",
        "今天上午生产环境 Redis 内存使用率达到 95%，部分请求超时。用下面的命令查看大键：\n"
        "```bash\n"
        "redis-cli -h cache-01 --bigkeys\n"
        "```\n"
        "请 @wang.lei 协助排查。",
        ["已清理过期的会话数据，内存降到 60%。", "后续在 OPS-4720 中跟进。"]),
    ("zh-Hans", "docs-site", "low",
        "帮助中心搜索不到中文文章",
        "在帮助中心用中文关键词搜索时，结果总是为空，用英文关键词搜索则正常。",
        []),
    ("zh-Hant", "billing-portal", "medium",
        "發票抬頭無法修改",
        "客戶在帳戶設定中修改公司名稱後，新開立的發票仍然顯示舊的抬頭。請協助確認是否為快取問題。",
        ["已確認是快取問題，清除後恢復正常。"]),
    ("ja", "mobile-app", "high",
        "iOS版でログイン後に画面が固まる",
        "バージョン 4.2.0 にアップデートしてから、ログイン直後にホーム画面が固まります。詳しくは "
        "MOB-915 と https://status.example.com/incidents/57 をご確認ください。",
        ["@sato.y 再現手順を追記しました。"]),
    ("ja", "data-platform", "low",
        "CSV出力で文字化けする",
        "管理画面から出力したCSVをExcelで開くと、日本語が文字化けします。BOM付きUTF-8で出力できるよう"
        "にしてほしいです。",
        []),
    ("ko", "web-shop", "medium",
        "쿠폰 적용 후 결제 금액 오류",
        "10% 할인 쿠폰을 적용하면 배송비까지 할인되는 문제가 있습니다. 관련 로그는 qa@example.com "
        "으로 보냈습니다.",
        ["@jiwoo.p 님, 확인 부탁드립니다."]),
    ("ko", "infra", "low",
        "개발 서버 접속 권한 요청",
        "신규 입사자 두 명에게 개발 서버 SSH 접속 권한이 필요합니다. 공개 키는 이번 주 안에 "
        "전달하겠습니다.",
        []),
    ("ka", "web-shop", "medium",
        "გადახდის გვერდი არ იტვირთება",
        "ბარათით გადახდისას გვერდი ცარიელი რჩება და შეკვეთა არ ფორმდება. პრობლემა დღეს დილით დაიწყო.",
        ["ვამოწმებთ, მადლობა შეტყობინებისთვის."]),
    ("hy", "auth-service", "low",
        "Գաղտնաբառի վերականգնման հղումը չի աշխատում",
        "Նամակով ստացված հղումը բացելիս գրվում է, որ դրա ժամկետն անցել է, թեև նամակը հենց նոր է "
        "եկել։ Մանրամասները՝ AUTH-341 տոմսում։",
        []),
    ("ur", "billing-portal", "medium",
        "رقم کی واپسی ابھی تک نہیں ہوئی",
        "میں نے دو ہفتے پہلے آرڈر منسوخ کیا تھا لیکن رقم ابھی تک واپس نہیں آئی۔ براہ کرم جلد از جلد "
        "چیک کریں۔",
        ["ہم نے بینک سے رابطہ کر لیا ہے۔"]),
    ("da", "search-api", "medium",
        "Søgning ignorerer danske bogstaver",
        "Søger man på \"smørrebrød\", kommer der ingen resultater, men \"smorrebrod\" virker. Jeg "
        "tror, at normaliseringen fjerner æ, ø og å. Se `analyzer.yml` i SRCH-152.",
        ["@mads.h kigger på det i morgen."]),
    ("sk", "docs-site", "low",
        "Chýbajúci preklad v päte stránky",
        "V slovenskej verzii webu sa v päte stránky stále zobrazuje anglický text \"Privacy "
        "policy\". Ostatné časti sú preložené.",
        []),
    ("hr", "infra", "high",
        "Noćni backup baze ne uspijeva tri noći zaredom",
        "Noćni backup pada s istom greškom:\n"
        "```\n"
        "pg_dump: error: connection to server failed: timeout\n"
        "```\n"
        "Molim provjeru mreže prema db-02.",
        ["Vatrozid je nakon promjene pravila blokirao port 5432.",
         "Popravljeno, @ivana.m je potvrdila da backup radi."]),
    ("ca", "web-shop", "low",
        "Les imatges de producte es veuen borroses",
        "A la fitxa de producte, les fotos es veuen pixelades en pantalles grans. Sembla que sempre "
        "es carrega la miniatura en lloc de la imatge original.",
        ["Confirmat a Chrome i Firefox."]),
    ("lt", "mobile-app", "medium",
        "Programėlė neišsaugo kalbos nustatymo",
        "Pakeitus kalbą į lietuvių ir uždarius programėlę, kitą kartą ji vėl atsidaro anglų kalba. "
        "Problema kartojasi ir Android, ir iOS įrenginiuose.",
        []),
    ("et", "billing-portal", "medium",
        "Arvel puudub käibemaksukohustuslase number",
        "Ettevõtetest klientide arvetel ei kuvata käibemaksukohustuslase numbrit, kuigi see on "
        "profiilis olemas. Palun vaadake piletit BILL-1031.",
        ["@kristjan.t parandus on juba testkeskkonnas."]),
    ("sl", "data-platform", "low",
        "Prošnja za dostop do nadzorne plošče",
        "Za pripravo četrtletnega poročila potrebujem bralni dostop do prodajne nadzorne plošče. "
        "Vodja oddelka je zahtevo že odobril.",
        ["Dostop je dodeljen."]),
    ("gl", "docs-site", "low",
        "Erro na guía de instalación",
        "Na guía de instalación falta o paso para crear o ficheiro de configuración. Sen ese paso, "
        "o servizo non arrinca.",
        []),
    ("az", "web-shop", "medium",
        "Səbətdəki məhsullar itir",
        "İstifadəçi hesabdan çıxıb yenidən daxil olanda səbətdəki məhsullar silinir. Problem yalnız "
        "saytın mobil versiyasında müşahidə olunur.",
        ["Sessiyanın müddəti ilə bağlı ola bilər."]),
    ("en", "search-api", "medium",
        "Autocomplete returns stale suggestions",
        "Suggestions still show products we removed last week. The index rebuild in SRCH-160 "
        "finished, but the suggester cache was never invalidated. Running `make reindex-suggest` "
        "locally fixes it.",
        ["@priya.n can we add that to the deploy pipeline?"]),
    ("en", "helpdesk", "low",
        "Request: dark mode for the agent console",
        "Several agents on the night shift asked for a dark theme in the console. Not urgent, but "
        "it would help with eye strain.",
        []),
    ("en", "infra", "high",
        "Deploy pipeline stuck on npm install",
        "The `deploy-web` job hangs at the install step since this morning:\n"
        "```bash\n"
        "npm ci --prefer-offline\n"
        "# hangs after 'idealTree: timing'\n"
        "```\n"
        "Registry mirror status: https://status.example.com/incidents/61",
        ["Mirror was out of disk; cleaned up.", "Pipeline green again, closing."]),
    ("en", "billing-portal", "medium",
        "Refund not reflected in customer balance",
        "The refund for order 55120 went through at the payment provider, but the customer's "
        "balance still shows the full charge. The customer wrote to billing@example.org twice.",
        ["Webhook delivery failed on the 12th, replaying now."]),
    ("en", "mobile-app", "low",
        "Typo on the second onboarding screen",
        "The second onboarding slide says \"Recieve updates\" instead of \"Receive updates\".",
        []),
    ("de", "infra", "medium",
        "VPN-Verbindung bricht regelmäßig ab",
        "Seit der Umstellung auf das neue VPN-Profil trennt sich die Verbindung etwa alle 30 "
        "Minuten. Betroffen ist das ganze Team in Hamburg. Siehe NET-207, @jonas.w hat das Profil "
        "erstellt.",
        ["Liegt vermutlich am zu kurzen Rekey-Intervall."]),
    ("de", "search-api", "low",
        "Umlaute fehlen in den Suchvorschlägen",
        "Bei der Eingabe von \"Müsli\" erscheinen nur Vorschläge ohne Umlaut, etwa \"Musli\". Das "
        "wirkt unprofessionell.",
        []),
    ("fr", "billing-portal", "medium",
        "Export comptable incomplet",
        "L'export comptable de mai s'arrête à la ligne 10 000, sans message d'erreur. Merci de "
        "regarder le job `export_compta` et de me répondre à compta@example.org.",
        ["Limite de pagination codée en dur, corrigée dans FIN-77."]),
    ("fr", "helpdesk", "low",
        "Demande d'accès au tableau de bord",
        "Bonjour, je viens d'arriver dans l'équipe support et je n'ai pas encore accès au tableau "
        "de bord des tickets. Pouvez-vous m'ajouter ?",
        ["C'est fait, bienvenue !"]),
    ("es", "infra", "high",
        "Caída del servicio de pagos en México",
        "Desde las 18:00 el servicio de pagos en México devuelve error 503. Seguimos el incidente "
        "en https://status.example.com/incidents/63 y en OPS-4733.",
        ["@carlos.m el proveedor confirma un problema en su red.",
         "Servicio restablecido a las 18:47."]),
    ("es", "docs-site", "low",
        "Sugerencia: ejemplos completos en la guía rápida",
        "La guía rápida sería más útil con un ejemplo completo de principio a fin. Ahora mismo hay "
        "que saltar entre tres páginas.",
        []),
    ("pt", "auth-service", "high",
        "Sessões não expiram após o logout",
        "Depois de sair da conta, o token antigo continua válido por até 24 horas. Isso é um risco "
        "de segurança. Detalhes em SEC-19; avisem security@example.org antes de publicar a correção.",
        ["@rafael.c já está trabalhando nisso."]),
    ("it", "helpdesk", "low",
        "Richiesta di una nuova tastiera",
        "La mia tastiera ha alcuni tasti che non funzionano più, in particolare la barra "
        "spaziatrice. Posso averne una nuova?",
        []),
]


def tickets_bytes() -> bytes:
    lines = []
    for i, (lang, project, priority, title, body, comments) in enumerate(TICKETS, start=1):
        lines.append(to_json_line({
            "id": f"TCK-{i:04d}", "title": title, "body": body, "comments": comments,
            "metadata": {"project": project, "priority": priority, "lang_hint": lang},
        }))
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- Classification sample ------------------------------------------------------------------
CLASSIFY_LABELS = ["support request", "bug report", "product review", "news", "other"]

# label -> [(lang_hint, text)], 8 per label.
CLASSIFY_DOCS: dict[str, list[tuple[str, str]]] = {
    "support request": [
        ("en", "Hi, I'd like to add two colleagues to our team plan. Where do I find the option to "
               "invite users, and will we be charged right away?"),
        ("en", "Could you tell me how to change the billing address on my account? Our company moved "
               "offices last month."),
        ("en", "I forgot which e-mail address I used to sign up. Can you help me get back into my "
               "account?"),
        ("de", "Hallo, wie kann ich mein Abonnement pausieren, während ich im Urlaub bin? Ich möchte "
               "es nicht ganz kündigen."),
        ("es", "Buenas tardes, necesito una copia de la factura de febrero para mi contabilidad. "
               "¿Me la pueden enviar por correo?"),
        ("ja", "アカウントの表示言語を日本語に変更する方法を教えてください。設定画面に項目が見つかりません。"),
        ("ar", "مرحباً، أريد نقل اشتراكي إلى حساب آخر داخل الشركة. ما الخطوات المطلوبة لذلك؟"),
        ("id", "Halo, bagaimana cara mengunduh semua data saya sebelum menutup akun? Terima kasih "
               "atas bantuannya."),
    ],
    "bug report": [
        ("en", "Steps to reproduce: open Settings, switch the theme to dark, then reload. Expected: "
               "the dark theme stays. Actual: the page flips back to light while the toggle still "
               "shows 'on'."),
        ("en", "The date picker lets you select February 30. Saving the form then fails with a "
               "generic 'Something went wrong' message."),
        ("en", "Version 2.3.1 crashes when importing a CSV file that has an empty header column. The "
               "same file worked fine in 2.2."),
        ("en", "Sorting the orders table by amount puts 1,000 before 200, so the values are compared "
               "as text instead of numbers."),
        ("fr", "Quand on colle un texte de plus de 5 000 caractères dans l'éditeur, le curseur saute "
               "au début et une partie du texte disparaît. Reproduit sur Chrome 124."),
        ("ru", "После обновления до версии 5.1 кнопка «Сохранить» не реагирует, если в поле телефона "
               "есть пробелы. В консоли появляется ошибка TypeError."),
        ("zh-Hans", "在 iPad 上横屏使用时，底部导航栏会遮住输入框，无法点击发送按钮。竖屏时一切正常。"),
        ("pl", "Po zmianie strefy czasowej w profilu wszystkie spotkania w kalendarzu przesuwają się "
               "o dwie godziny. Błąd występuje tylko w aplikacji webowej."),
    ],
    "product review": [
        ("en", "Great little speaker for the kitchen. The sound is clear even at low volume, though "
               "the bass is a bit thin. Four stars."),
        ("en", "These running shoes fell apart after two months. The sole came loose on both shoes, "
               "so I would not buy them again."),
        ("en", "The backpack fits a 15-inch laptop with room to spare, and the straps stay "
               "comfortable on long walks. Worth the price."),
        ("it", "Ho comprato questa lampada da scrivania un mese fa: luce piacevole, tre livelli di "
               "intensità e montaggio semplice. La consiglio."),
        ("pt", "O liquidificador é potente e fácil de limpar, mas faz um barulho enorme. Pelo preço, "
               "esperava algo mais silencioso."),
        ("ko", "이 텀블러는 보온이 정말 오래가요. 아침에 넣은 커피가 오후까지 따뜻합니다. 다만 뚜껑이 조금 "
               "뻑뻑해요."),
        ("tr", "Bu klavyenin tuşları çok rahat ve sessiz. Pil ömrü de harika, iki aydır şarj "
               "etmedim."),
        ("nl", "De fietsverlichting is fel en makkelijk te monteren, maar na een regenbui deed de "
               "achterlamp het niet meer. Jammer."),
    ],
    "news": [
        ("en", "The regional airport will open a second runway next spring, officials announced on "
               "Monday. The expansion is expected to double the number of daily flights."),
        ("en", "Heavy snowfall closed several mountain roads overnight, and schools in three "
               "districts will stay shut on Thursday."),
        ("en", "A local software company said it will hire 200 engineers over the next year after "
               "securing new funding from investors."),
        ("en", "The national statistics office reported that inflation fell to 2.1 percent in May, "
               "its lowest level in three years."),
        ("es", "El Gobierno regional aprobó ayer un plan para renovar cuarenta escuelas públicas. "
               "Las obras comenzarán en verano y durarán dos años."),
        ("de", "Der Stadtrat hat beschlossen, die Innenstadt ab Juli für den Autoverkehr zu sperren. "
               "Busse und Lieferfahrzeuge sind von dem Verbot ausgenommen."),
        ("hi", "राज्य सरकार ने घोषणा की है कि अगले महीने से शहर में बीस नई इलेक्ट्रिक बसें चलेंगी। इससे "
               "प्रदूषण कम होने की उम्मीद है।"),
        ("sv", "Riksdagen röstade i går igenom en ny lag om cykelhjälm för alla under 18 år. Lagen "
               "börjar gälla den första januari."),
    ],
    "other": [
        ("en", "Grandma's lentil soup: fry an onion, add red lentils, a tin of tomatoes and a litre "
               "of stock, then simmer for twenty minutes."),
        ("en", "Reminder: the team lunch has moved to Friday at 12:30. Please tell Sam by Wednesday "
               "if you have any dietary restrictions."),
        ("en", "The morning fog lifted slowly over the harbour, and the first fishing boats slipped "
               "out past the lighthouse."),
        ("en", "Lost: a grey cat with a white tip on its tail, answers to Pixel. Last seen near the "
               "bakery on Elm Street."),
        ("fr", "Joyeux anniversaire, Claire ! J'espère que ta journée sera pleine de soleil et de "
               "gâteau au chocolat."),
        ("ja", "週末は家族で山に登りました。頂上から見た紅葉がとてもきれいでした。"),
        ("pt", "Vendo bicicleta infantil, aro 16, em bom estado. Interessados, falar com o Paulo à "
               "noite."),
        ("ru", "Пословица дня: тише едешь — дальше будешь."),
    ],
}


def classify_records() -> list[tuple[str, str, str]]:
    """(label, lang, text) in a fixed mixed order: position k of the 40 takes flat[(k * 17) % 40]."""
    flat = [(label, lang, text) for label in CLASSIFY_LABELS for lang, text in CLASSIFY_DOCS[label]]
    return [flat[(k * 17) % len(flat)] for k in range(len(flat))]


def classify_bytes() -> bytes:
    lines = []
    for i, (label, lang, text) in enumerate(classify_records(), start=1):
        lines.append(to_json_line({
            "id": f"DOC-{i:03d}", "text": text,
            "metadata": {"expected": label, "lang_hint": lang},
        }))
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_zst(path: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, os.path.basename(path)[: -len(".zst")])
        with open(raw, "wb") as f:
            f.write(data)
        subprocess.run(["zstd", "-19", "-q", "-f", raw, "-o", path], check=True)


def main() -> int:
    os.makedirs(OUT_DIR, exist_ok=True)
    docs = documents_bytes()
    bad = bad_lines_bytes()
    write_zst(os.path.join(OUT_DIR, "sample-documents.jsonl.zst"), docs)
    write_zst(os.path.join(OUT_DIR, "sample-bad-lines.jsonl.zst"), bad)
    langs = sorted({lang for lang, _, _ in DOCS})
    print(f"sample-documents.jsonl.zst: {len(DOCS)} documents, {len(langs)} language hints, "
          f"{len(docs)} bytes uncompressed")
    nlines = bad.count(b"\n") + 1
    print(f"sample-bad-lines.jsonl.zst: {nlines} lines, {len(bad)} bytes uncompressed")
    tickets = tickets_bytes()
    write_zst(os.path.join(OUT_DIR, "sample-tickets.jsonl.zst"), tickets)
    tlangs = sorted({t[0] for t in TICKETS})
    print(f"sample-tickets.jsonl.zst: {len(TICKETS)} tickets, {len(tlangs)} language hints, "
          f"{len(tickets)} bytes uncompressed")
    classify = classify_bytes()
    write_zst(os.path.join(OUT_DIR, "sample-classify.jsonl.zst"), classify)
    crecs = classify_records()
    print(f"sample-classify.jsonl.zst: {len(crecs)} documents, {len(CLASSIFY_LABELS)} labels, "
          f"{len({lang for _, lang, _ in crecs})} language hints, {len(classify)} bytes uncompressed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
