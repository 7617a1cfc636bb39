"""WTForms forms (all with CSRF through Flask-WTF)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from matcher.errors import ConfigError
from matcher.fields import LANGS, LANGUAGE_NAMES, REGISTRY, Answers, Field
from matcher.weights import SETTINGS, check_setting

from .models import EVIDENCE, ROLES, STATUSES


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address such as name@example.com."))
#: The profile fields of the self-assessment form, in the registry's order (matcher/fields.py).
PROFILE_FORM_FIELDS = tuple(f for f in REGISTRY if f.group)
PROFILE_NAMES = frozenset(f.name for f in PROFILE_FORM_FIELDS)
#: Each form field's help, in the page's language (the registry's msgids, translated by the catalogue).
HELP = {f.name: _l(f.help) for f in PROFILE_FORM_FIELDS if f.help}
NOT_STATED = _l("not stated")


def answer_choices(answers: Answers) -> list[SelectChoice]:
    """The options of an answer field: "not stated", then the registry's answers as forms offer them."""
    return choices([("", NOT_STATED), *((value, _l(label)) for value, label in answers.offered)])


def profile_field(f: Field):
    """The WTForms field of a registry field, by its kind."""
    if f.answers is not None:
        return SelectField(choices=answer_choices(f.answers), default="")
    if f.kind == "sectors":
        return SelectMultipleField(choices=[], widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    first = DataRequired(_l("Please enter the firm's name.")) if f.kind == "name" else Optional()
    kind = TextAreaField if f.kind == "longtext" else StringField
    return kind(validators=[first, Length(max=f.max_length)])


#: The profile's fields as a form: one per field of the registry shown on the forms.
ProfileFields = type("ProfileFields", (FlaskForm,), {f.name: profile_field(f) for f in PROFILE_FORM_FIELDS})


class AssessForm(ProfileFields):
    """The self-assessment form: every field of the data contract except contact data (see :data:`ProfileFields`)."""

    def __init__(self, *args, **kwargs) -> None:
        from .i18n import current_lang
        from .scoring import sector_choices

        super().__init__(*args, **kwargs)
        self.sectors.choices = [(sid, label) for _tier, items in sector_choices(current_lang()) for sid, label in items]

    def validate_okved(self, field) -> None:
        """Every code must exist; on success the field holds the codes as written canonically (28,99 -> 28.99)."""
        from .scoring import okved_index

        split = okved_index().split(field.data)
        problems = [_("%(code)s is not an OKVED 2 code.", code=code) for code in split.unknown]
        problems += [_("%(item)s is not a code such as 62.01 or 26.3.", item=item) for item in split.unreadable]
        if problems:
            raise ValidationError(" ".join(problems))
        field.data = "; ".join(split.codes)

    def profile(self) -> dict[str, str]:
        """The form's answers as a profile mapping (the ticked sectors as ids separated by ';')."""
        data = {
            name: "; ".join(field.data) if isinstance(field.data, list) else field.data
            for name, field in self._fields.items()
            if name in PROFILE_NAMES
        }
        return {name: value for name, value in data.items() if value not in (None, "")}


class SubmitLeadForm(AssessForm):
    """The assessed profile (hidden) plus consent and a contact e-mail."""

    contact_email = StringField(validators=[DataRequired(_l("Please give a contact e-mail.")), EMAIL, Length(max=254)])
    consent = BooleanField(
        _l("Consent"), validators=[DataRequired(_l("Please agree so that we may store and use your data."))]
    )


class LoginForm(FlaskForm):
    """Staff login."""

    username = StringField(_l("User name or e-mail"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in"))


class NoteForm(FlaskForm):
    """A note on a lead."""

    body = TextAreaField(_l("Note"), validators=[DataRequired(_l("The note is empty.")), Length(max=5000)])


class StatusForm(FlaskForm):
    """Pipeline status of a lead."""

    status = SelectField(_l("Status"), choices=choices((s, s) for s in STATUSES))


class AssignForm(FlaskForm):
    """Assignment of a lead to a staff member."""

    assignee = SelectField(_l("Assigned to"), coerce=int)


class UploadForm(FlaskForm):
    """A CSV file to score."""

    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(_l("Choose a CSV file.")),
            FileAllowed(["csv", "txt", "tsv"], _l("Upload a .csv file (comma, semicolon or tab separated).")),
        ],
    )
    lang = SelectField(_l("Language of the explanations"), choices=choices(LANGUAGE_NAMES.items()))
    output = SelectField(
        _l("Scored file written as"),
        default="input",
        choices=choices(
            [
                ("input", _l("the uploaded file's encoding and separator")),
                ("utf-8-sig", _l("UTF-8 with BOM (opens in Excel)")),
                ("utf-8", _l("UTF-8, comma separated")),
            ]
        ),
    )


class UserForm(FlaskForm):
    """A new staff account."""

    email = StringField(_l("E-mail"), validators=[DataRequired(), EMAIL, Length(max=254)])
    username = StringField(_l("User name"), validators=[DataRequired(), Length(min=2, max=80)])
    role = SelectField(_l("Role"), choices=choices((r, r) for r in ROLES))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", _l("The passwords differ."))])


class ActionForm(FlaskForm):
    """A bare form for a POST button (CSRF only)."""


def flash_errors(form) -> None:
    """Flash every error of a form at once."""
    from flask import flash

    for name, errors in form.errors.items():
        for error in errors:
            flash(f"{error_label(form, name)}: {error}", "error")


def error_label(form, name: str) -> str:
    """The label an error of field ``name`` is shown with: a profile field's in the page's language, else the form's.

    Every field outside the data contract has a translated label of its own (``consent``, ``spread``…),
    so no message starts with an English field name on a Russian or Vietnamese page.
    """
    from matcher.profile import FIELDS

    from .i18n import field_label

    if name in FIELDS or name not in form:
        return field_label(name)
    return str(form[name].label.text)


class ReasonForm(FlaskForm):
    """Why a new weights version is saved (required)."""

    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(_l("Give the reason for the new weights.")), Length(max=2000)]
    )


class Setting:
    """Validator: the field is the ranking setting ``key`` (in ``scale`` form units per stored unit), checked by
    :func:`matcher.weights.check_setting`; ``message`` gets the bounds in form units as ``%(min)s``, ``%(max)s``."""

    def __init__(self, key: str, message, scale: float = 1.0) -> None:
        self.key, self.message, self.scale = key, message, scale

    def __call__(self, form, field) -> None:
        if field.data is None:  # unreadable: the field's own error says so
            return
        try:
            check_setting(self.key, field.data if self.scale == 1 else field.data / self.scale)
        except (ConfigError, OverflowError):  # OverflowError: an integer too large to divide as a float
            self._refuse()

    def _refuse(self) -> None:
        low, high = SETTINGS[self.key]
        raise ValidationError(self.message % {"min": f"{low * self.scale:g}", "max": f"{high * self.scale:g}"})


class RankingSettingsForm(FlaskForm):
    """Robustness spread and k, and the factor for unverified commitments (bounds: matcher.weights.SETTINGS)."""

    spread = IntegerField(
        _l("Weight spread, ±%"),
        validators=[InputRequired(), Setting("spread", _l("The spread must be between %(min)s and %(max)s %%."), 100)],
    )
    top_k = IntegerField(
        _l("Top k"), validators=[InputRequired(), Setting("top_k", _l("k must be %(min)s to %(max)s."))]
    )
    unverified_factor = FloatField(
        _l("Factor for unverified claims"),
        validators=[
            InputRequired(),
            Setting("unverified_factor", _l("The factor must be between %(min)s and %(max)s.")),
        ],
    )


class EvidenceForm(FlaskForm):
    """How one commitment of a lead is backed, with a note."""

    status = SelectField(_l("Evidence"), choices=choices((s, s) for s in EVIDENCE))
    note = StringField(_l("Note"), validators=[DataRequired(_l("Say how the claim was checked.")), Length(max=2000)])


#: The promotion team's contact as firms see it after sending (thanks page, e-mail, report): one text per language.
TeamContactForm = type(
    "TeamContactForm",
    (FlaskForm,),
    {lang: TextAreaField(LANGUAGE_NAMES[lang], validators=[Optional(), Length(max=2000)]) for lang in LANGS},
)


class MergeForm(FlaskForm):
    """Confirmation that two leads are the same firm."""

    same_firm = BooleanField(
        _l("I checked: these two leads are the same firm."),
        validators=[DataRequired(_l("Tick the box to confirm that both leads are the same firm."))],
    )


INN = Regexp(r"^\s*(\d[\s-]*){10}((\d[\s-]*){2})?$", message=_l("An INN has 10 digits (a firm) or 12 (a person)."))
OGRN = Regexp(
    r"^\s*(\d[\s-]*){13}((\d[\s-]*){2})?$", message=_l("An OGRN has 13 digits (a firm) or 15 (a sole trader).")
)


class LeadForm(AssessForm):
    """Staff entering or editing a lead: the profile, the contact e-mail and the firm's identifiers."""

    contact_email = StringField(validators=[Optional(), EMAIL, Length(max=254)])
    inn = StringField(validators=[Optional(), Length(max=20), INN])
    ogrn = StringField(validators=[Optional(), Length(max=20), OGRN])

    def profile(self) -> dict[str, str]:
        """The profile (with the contact e-mail) as a contract mapping."""
        data = super().profile()
        if self.contact_email.data:
            data["contact_email"] = self.contact_email.data.strip()
        return data


class ContactForm(FlaskForm):
    """A contact person at a lead's firm."""

    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the person's name.")), Length(max=200)])
    role = StringField(_l("Position"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), EMAIL, Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=50)])


class EraseForm(FlaskForm):
    """Consent withdrawn: anonymise or delete a lead, confirmed by its number typed by hand and a reason."""

    mode = SelectField(
        _l("What to do"),
        default="anonymise",
        choices=choices(
            [
                (
                    "anonymise",
                    _l("Anonymise: keep the scores for statistics, remove everything that identifies the firm"),
                ),
                ("delete", _l("Delete: remove the lead with its history, notes and contacts")),
            ]
        ),
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Say why (e.g. the firm's e-mail withdrawing consent, with its date).")),
            Length(max=2000),
        ],
    )
    typed = StringField(
        _l("Type the lead's number to confirm"), validators=[DataRequired(_l("Type the lead's number."))]
    )
    #: The number that must be typed (set by the view).
    lead_number: int | None = None

    def validate_typed(self, field) -> None:
        """The typed number must be this lead's (``#12`` and ``12`` both count)."""
        if field.data.strip().lstrip("#").strip() != str(self.lead_number):
            raise ValidationError(_("That is not this lead's number: nothing was changed."))


class BulkDeleteForm(FlaskForm):
    """Confirmation of a bulk deletion: the number of leads typed by hand, and the reason."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(_l("Say why (e.g. the firm's e-mail withdrawing consent, with its date).")),
            Length(max=2000),
        ],
    )
    typed = StringField(
        _l("Type the number of leads to delete to confirm"), validators=[DataRequired(_l("Type the number of leads."))]
    )
    #: How many leads are selected (set by the view).
    expected: int | None = None

    def validate_typed(self, field) -> None:
        """The typed number must be the number of selected leads."""
        if field.data.strip() != str(self.expected):
            raise ValidationError(_("That is not the number of selected leads: nothing was deleted."))


class SavedViewForm(FlaskForm):
    """A name for the list's current filters."""

    name = StringField(_l("Name of the view"), validators=[DataRequired(_l("Give the view a name.")), Length(max=80)])


class TaskForm(FlaskForm):
    """A follow-up on a lead: what, by when, by whom."""

    title = StringField(_l("Follow-up"), validators=[DataRequired(_l("Say what to do.")), Length(max=300)])
    due_on = DateField(_l("Due on"), validators=[InputRequired(_l("Give a due date."))])
    assignee = SelectField(_l("For"), coerce=int)


class ActivityForm(FlaskForm):
    """A call, meeting or e-mail with the firm."""

    kind = SelectField(_l("Kind"))
    happened_on = DateField(_l("Date"), validators=[InputRequired(_l("Give the date."))])
    summary = TextAreaField(_l("Summary"), validators=[DataRequired(_l("Say what was discussed.")), Length(max=5000)])
