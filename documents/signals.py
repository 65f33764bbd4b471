"""Signals documents sends to the apps above it (which connect in their AppConfig.ready()).

`exchange_received(sender=ExchangeRecord, record=…, actor=…)`: a 收发员 signed for an exchange
record (签收), inside the 签收 transaction. workflows connects the 收文 process's start to it, so a
failure there undoes the 签收 too and nothing is half done.
"""

from django.dispatch import Signal

exchange_received = Signal()
