"""The user model django-digid-eherkenning needs: managers that find or create a user by RSIN."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from digid_eherkenning.managers import BaseDigidManager, BaseeHerkenningManager


class DigidManager(BaseDigidManager):
    def get_by_bsn(self, bsn):
        return self.get_queryset().get(bsn=bsn)

    def digid_create(self, bsn, **kwargs):
        return super().create(username=f"digid-{bsn}", bsn=bsn)


class EHerkenningManager(BaseeHerkenningManager):
    def get_by_rsin(self, rsin):
        return self.get_queryset().get(rsin=rsin)

    def eherkenning_create(self, rsin, **kwargs):
        return super().create(username=f"eh-{rsin}", rsin=rsin)


class User(AbstractUser):
    bsn = models.CharField(max_length=9, blank=True)
    rsin = models.CharField(max_length=9, blank=True)

    objects = UserManager()
    digid_objects = DigidManager()
    eherkenning_objects = EHerkenningManager()
