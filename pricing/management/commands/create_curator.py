"""``manage.py create_curator USERNAME``: a staff account in the ``curators`` group, nothing more.

The password is read from the CURATOR_PASSWORD environment variable, or asked for on a terminal;
with ``--no-input`` and no variable the account gets an unusable password (set it later with
``manage.py changepassword``). Running it for an existing user adds that user to the group.
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

CURATORS = "curators"
PASSWORD_ENV = "CURATOR_PASSWORD"


class Command(BaseCommand):
    help = "Create a curator: a staff account (not a superuser) in the curators group."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--no-input", action="store_true", help=f"Never prompt; read ${PASSWORD_ENV} if set.")

    def handle(self, *args: Any, username: str, email: str, no_input: bool, **options: Any) -> None:
        try:
            group = Group.objects.get(name=CURATORS)
        except Group.DoesNotExist:
            raise CommandError(f"the {CURATORS!r} group does not exist: run `manage.py migrate` first") from None
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("the username cannot be empty")
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        password = self._password(username=username, prompt=not no_input and user is None)
        with transaction.atomic():
            created = user is None
            if user is None:
                user = User(**{User.USERNAME_FIELD: username}, email=email)
                if password:
                    try:
                        validate_password(password, user)
                    except ValidationError as exc:
                        raise CommandError("; ".join(exc.messages)) from exc
                    user.set_password(password)
                else:
                    user.set_unusable_password()
            user.is_staff = True
            if email:
                user.email = email
            user.save()
            user.groups.add(group)
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} curator {username!r} (staff, in the {CURATORS!r} group)."))
        if created and not password:
            self.stdout.write(f"No password set: run `manage.py changepassword {username}`.")

    def _password(self, *, username: str, prompt: bool) -> str:
        password = os.environ.get(PASSWORD_ENV, "")
        if password or not prompt:
            return password
        if not self.stdin_is_tty():
            return ""
        first = getpass.getpass(f"Password for {username}: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords did not match")
        return first

    def stdin_is_tty(self) -> bool:
        import sys

        return sys.stdin.isatty()
