"""The data packs of DESIGN §4 and the metrics in each: which pack a metric belongs to decides who may see it."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataPack(models.TextChoices):
    ESSENTIAL = "essential", _("Essential")
    USAGE_HOURS = "usage_hours", _("Usage hours")
    ENERGY_AND_FUEL = "energy_and_fuel", _("Energy and fuel")
    ACTIVITY = "activity", _("Activity")
    VEHICLE_CONDITIONS = "vehicle_conditions", _("Vehicle conditions")
    FAULT_CODES = "fault_codes", _("Fault codes")
    OTHERS = "others", _("Others")


ALL_DATA_PACKS = tuple(DataPack.values)


class Metric(models.TextChoices):
    """Numeric metrics stored as time series (positions and fault codes have tables of their own)."""

    ENGINE_RUNNING = "engine_running", _("Engine running")
    OPERATING_HOURS = "operating_hours", _("Cumulative operating hours")
    IDLE_HOURS = "idle_hours", _("Cumulative idle hours")
    FUEL_USED = "fuel_used", _("Cumulative fuel used")
    FUEL_USED_LAST_24 = "fuel_used_last_24", _("Fuel used in the last 24 h")
    FUEL_REMAINING = "fuel_remaining", _("Fuel remaining")
    DEF_REMAINING = "def_remaining", _("DEF remaining")
    DISTANCE = "distance", _("Odometer")
    PEAK_DAILY_SPEED = "peak_daily_speed", _("Peak daily speed")
    LOAD_COUNT = "load_count", _("Cumulative load count")
    PAYLOAD_TOTAL = "payload_total", _("Cumulative payload")
    AVERAGE_LOAD_FACTOR_LAST_24 = "average_load_factor_last_24", _("Average load factor (24 h)")
    COOLANT_TEMPERATURE = "coolant_temperature", _("Coolant temperature")
    BATTERY_VOLTAGE = "battery_voltage", _("Battery voltage")
    ACTIVE_REGENERATION_HOURS = "active_regeneration_hours", _("Cumulative active regeneration hours")
    POWER_TAKE_OFF_HOURS = "power_take_off_hours", _("Cumulative power take-off hours")


@dataclass(frozen=True)
class MetricInfo:
    pack: str
    unit: str
    iso_name: str


METRICS: dict[str, MetricInfo] = {
    Metric.ENGINE_RUNNING: MetricInfo(DataPack.ESSENTIAL, "", "EngineStatus"),
    Metric.OPERATING_HOURS: MetricInfo(DataPack.USAGE_HOURS, "h", "CumulativeOperatingHours"),
    Metric.IDLE_HOURS: MetricInfo(DataPack.USAGE_HOURS, "h", "CumulativeIdleHours"),
    Metric.FUEL_USED: MetricInfo(DataPack.ENERGY_AND_FUEL, "L", "FuelUsed"),
    Metric.FUEL_USED_LAST_24: MetricInfo(DataPack.ENERGY_AND_FUEL, "L", "FuelUsedLast24"),
    Metric.FUEL_REMAINING: MetricInfo(DataPack.ENERGY_AND_FUEL, "%", "FuelRemaining"),
    Metric.DEF_REMAINING: MetricInfo(DataPack.ENERGY_AND_FUEL, "%", "DEFRemaining"),
    Metric.DISTANCE: MetricInfo(DataPack.ACTIVITY, "km", "Distance"),
    Metric.PEAK_DAILY_SPEED: MetricInfo(DataPack.ACTIVITY, "km/h", "PeakDailySpeed"),
    Metric.LOAD_COUNT: MetricInfo(DataPack.ACTIVITY, "", "CumulativeLoadCount"),
    Metric.PAYLOAD_TOTAL: MetricInfo(DataPack.ACTIVITY, "t", "CumulativePayloadTotals"),
    Metric.AVERAGE_LOAD_FACTOR_LAST_24: MetricInfo(DataPack.ACTIVITY, "%", "AverageLoadFactorLast24"),
    Metric.COOLANT_TEMPERATURE: MetricInfo(DataPack.VEHICLE_CONDITIONS, "°C", "CoolantTemperature"),
    Metric.BATTERY_VOLTAGE: MetricInfo(DataPack.VEHICLE_CONDITIONS, "V", "BatteryVoltage"),
    Metric.ACTIVE_REGENERATION_HOURS: MetricInfo(DataPack.VEHICLE_CONDITIONS, "h", "CumulativeActiveRegenerationHours"),
    Metric.POWER_TAKE_OFF_HOURS: MetricInfo(DataPack.OTHERS, "h", "CumulativePowerTakeOffHours"),
}


def pack_of_metric(metric: str) -> str:
    """The pack a metric belongs to; any metric not listed in DESIGN §4 is in "others"."""
    info = METRICS.get(metric)
    return info.pack if info else DataPack.OTHERS


def normalise_data_packs(codes) -> list[str]:
    """The packs in their canonical order, without duplicates. Unknown codes raise ValueError naming them."""
    codes = list(codes)
    unknown = sorted({code for code in codes if code not in ALL_DATA_PACKS}, key=str)
    if unknown:
        raise ValueError(", ".join(str(code) for code in unknown))
    return [pack for pack in ALL_DATA_PACKS if pack in set(codes)]
