"""What the demo world is made of: real makes and models with the figures that shape their telemetry, the places the
machines work at, and the SAE J1939 fault codes they raise. Pure data, no database."""

from dataclasses import dataclass

from fleet.models import FaultSeverity, MachineCategory

# --- organisations ---------------------------------------------------------------------------------------------------

RENTAL = "rental"
CONTRACTOR = "contractor"
QUARRY = "quarry"


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    name: str
    domain: str


ORGANISATIONS = (
    DemoOrganisation(RENTAL, "Crestline Equipment Rental", "crestline-rental.example"),
    DemoOrganisation(CONTRACTOR, "Batiroc Construction", "batiroc.example"),
    DemoOrganisation(QUARRY, "Granitek Quarries", "granitek.example"),
)

#: Every demo account has this password; the command prints the logins at the end.
DEMO_PASSWORD = "sharecentre-demo"

# --- machine classes: how a category works, burns fuel and wears its counters -----------------------------------------


@dataclass(frozen=True)
class MachineClass:
    burn: float  # litres per engine hour at a typical load
    tank: float  # fuel tank, litres
    idle_share: tuple[float, float]  # share of engine hours spent idling on a day
    load_factor: tuple[float, float]  # average engine load while working, 0..1
    annual_hours: float  # engine hours a typical year
    travel: float = 0.0  # km per working hour; 0 = no odometer
    max_speed: float = 0.0  # km/h, top travel speed
    loads_per_hour: float = 0.0  # bucket or body loads per working hour; 0 = no payload system
    volts: int = 24
    power_take_off: bool = False
    long_days: bool = False  # runs through the lunch break (generators)


MACHINE_CLASSES: dict[str, MachineClass] = {
    MachineCategory.EXCAVATOR: MachineClass(14.0, 400, (0.25, 0.40), (0.45, 0.65), 1200),
    MachineCategory.MINI_EXCAVATOR: MachineClass(3.2, 60, (0.25, 0.40), (0.40, 0.60), 700, volts=12),
    MachineCategory.WHEEL_LOADER: MachineClass(15.0, 300, (0.20, 0.35), (0.45, 0.70), 1500, 7.0, 38, 35),
    MachineCategory.SKID_STEER: MachineClass(5.5, 90, (0.25, 0.35), (0.40, 0.60), 700, 4.0, 17, volts=12),
    MachineCategory.TELEHANDLER: MachineClass(6.5, 140, (0.35, 0.50), (0.30, 0.50), 800, 6.0, 36, volts=12),
    MachineCategory.DUMPER: MachineClass(4.0, 70, (0.30, 0.45), (0.35, 0.55), 700, 7.0, 28, 6, volts=12),
    MachineCategory.ARTICULATED_HAULER: MachineClass(24.0, 400, (0.15, 0.25), (0.45, 0.65), 1800, 18.0, 55, 4),
    MachineCategory.DOZER: MachineClass(22.0, 420, (0.20, 0.30), (0.50, 0.75), 1300),
    MachineCategory.CRANE: MachineClass(12.0, 300, (0.40, 0.55), (0.25, 0.45), 900, 10.0, 80, power_take_off=True),
    MachineCategory.BACKHOE_LOADER: MachineClass(6.5, 160, (0.30, 0.45), (0.35, 0.55), 900, 7.0, 40, volts=12),
    MachineCategory.ROLLER: MachineClass(8.0, 250, (0.25, 0.35), (0.40, 0.60), 800, 3.0, 11),
    MachineCategory.AERIAL_WORK_PLATFORM: MachineClass(3.0, 80, (0.40, 0.60), (0.25, 0.45), 400, 0.8, 5, volts=12),
    MachineCategory.GENERATOR: MachineClass(12.0, 280, (0.05, 0.10), (0.45, 0.70), 2500, long_days=True),
    MachineCategory.COMPRESSOR: MachineClass(6.0, 100, (0.30, 0.45), (0.40, 0.65), 700, volts=12),
}


# --- makes and models ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MachineModel:
    make: str
    model: str
    category: str
    kw: float  # rated engine (or motor) power
    serial: str  # format of the serial number, filled with `seq` (a number unique to the demo machine)
    wmi: str = ""  # first three characters of the 17-character ISO 10261 PIN; empty = no PIN on the plate
    tonnes_per_load: float = 0.0
    electric: bool = False

    @property
    def machine_class(self) -> MachineClass:
        return MACHINE_CLASSES[self.category]

    @property
    def has_fuel(self) -> bool:
        return not self.electric

    @property
    def has_def(self) -> bool:
        """Diesel exhaust fluid: EU Stage V engines above 56 kW have SCR after-treatment."""
        return not self.electric and self.kw > 56

    @property
    def has_particulate_filter(self) -> bool:
        """Stage V diesels from 19 kW have a particulate filter that regenerates actively now and then."""
        return not self.electric and self.kw >= 19


C = MachineCategory
MODELS = {
    "cat_320": MachineModel("Caterpillar", "320 GC", C.EXCAVATOR, 110, "ZBN{seq:05d}", "CAT"),
    "cat_323": MachineModel("Caterpillar", "323", C.EXCAVATOR, 121, "YBK{seq:05d}", "CAT"),
    "cat_3027": MachineModel("Caterpillar", "302.7 CR", C.MINI_EXCAVATOR, 17.9, "HH2{seq:05d}", "CAT"),
    "cat_950": MachineModel("Caterpillar", "950 GC", C.WHEEL_LOADER, 168, "M5K{seq:05d}", "CAT", 6.5),
    "cat_d6": MachineModel("Caterpillar", "D6", C.DOZER, 160, "GPN{seq:05d}", "CAT"),
    "cat_745": MachineModel("Caterpillar", "745", C.ARTICULATED_HAULER, 381, "3T6{seq:05d}", "CAT", 41),
    "cat_262": MachineModel("Caterpillar", "262D3", C.SKID_STEER, 55, "CW9{seq:05d}", "CAT"),
    "cat_432": MachineModel("Caterpillar", "432", C.BACKHOE_LOADER, 74, "LBF{seq:05d}", "CAT"),
    "cat_cs56": MachineModel("Caterpillar", "CS56B", C.ROLLER, 115, "C5S{seq:05d}", "CAT"),
    "komatsu_pc210": MachineModel("Komatsu", "PC210LCi-11", C.EXCAVATOR, 123, "K{seq:05d}", "KMT"),
    "komatsu_pc290": MachineModel("Komatsu", "PC290LC-11", C.EXCAVATOR, 147, "A{seq:05d}", "KMT"),
    "komatsu_pc55": MachineModel("Komatsu", "PC55MR-5", C.MINI_EXCAVATOR, 29, "F{seq:05d}", "KMT"),
    "komatsu_wa380": MachineModel("Komatsu", "WA380-8", C.WHEEL_LOADER, 142, "H{seq:05d}", "KMT", 5.8),
    "komatsu_hm400": MachineModel("Komatsu", "HM400-5", C.ARTICULATED_HAULER, 353, "J{seq:05d}", "KMT", 40),
    "komatsu_d61": MachineModel("Komatsu", "D61PXi-24", C.DOZER, 125, "B{seq:05d}", "KMT"),
    "volvo_ec220": MachineModel("Volvo CE", "EC220E", C.EXCAVATOR, 128, "3{seq:05d}", "VCE"),
    "volvo_ecr25": MachineModel("Volvo CE", "ECR25", C.MINI_EXCAVATOR, 15, "1{seq:05d}", "VCE"),
    "volvo_l120": MachineModel("Volvo CE", "L120H", C.WHEEL_LOADER, 201, "6{seq:05d}", "VCE", 7.0),
    "volvo_a30": MachineModel("Volvo CE", "A30G", C.ARTICULATED_HAULER, 265, "4{seq:05d}", "VCE", 28),
    "volvo_a40": MachineModel("Volvo CE", "A40G", C.ARTICULATED_HAULER, 350, "8{seq:05d}", "VCE", 39),
    "jcb_3cx": MachineModel("JCB", "3CX", C.BACKHOE_LOADER, 55, "29{seq:05d}", "JCB"),
    "jcb_4cx": MachineModel("JCB", "4CX", C.BACKHOE_LOADER, 81, "30{seq:05d}", "JCB"),
    "jcb_540": MachineModel("JCB", "540-140 Hi-Viz", C.TELEHANDLER, 81, "27{seq:05d}", "JCB"),
    "jcb_535": MachineModel("JCB", "535-95", C.TELEHANDLER, 55, "28{seq:05d}", "JCB"),
    "jcb_220x": MachineModel("JCB", "220X LC", C.EXCAVATOR, 129, "31{seq:05d}", "JCB"),
    "jcb_19c": MachineModel("JCB", "19C-1", C.MINI_EXCAVATOR, 14, "26{seq:05d}", "JCB"),
    "jcb_6t": MachineModel("JCB", "6T-1", C.DUMPER, 55, "25{seq:05d}", "JCB"),
    "liebherr_r926": MachineModel("Liebherr", "R 926", C.EXCAVATOR, 150, "0{seq:05d}", "LBH"),
    "liebherr_l556": MachineModel("Liebherr", "L 556 XPower", C.WHEEL_LOADER, 140, "2{seq:05d}", "LBH", 5.5),
    "liebherr_ltm1060": MachineModel("Liebherr", "LTM 1060-3.1", C.CRANE, 270, "07{seq:05d}", "WLH"),
    "liebherr_ltm1090": MachineModel("Liebherr", "LTM 1090-4.2", C.CRANE, 400, "09{seq:05d}", "WLH"),
    "liebherr_pr736": MachineModel("Liebherr", "PR 736", C.DOZER, 150, "5{seq:05d}", "LBH"),
    "manitou_mt1840": MachineModel("Manitou", "MT 1840", C.TELEHANDLER, 75, "MT{seq:05d}", "MAN"),
    "manitou_mrt2470": MachineModel("Manitou", "MRT 2470", C.TELEHANDLER, 126, "MR{seq:05d}", "MAN"),
    "manitou_mt625": MachineModel("Manitou", "MT 625 H", C.TELEHANDLER, 55, "MH{seq:05d}", "MAN"),
    "bobcat_s650": MachineModel("Bobcat", "S650", C.SKID_STEER, 55, "A3NM{seq:05d}", "BCT"),
    "bobcat_t770": MachineModel("Bobcat", "T770", C.SKID_STEER, 68, "AJ1U{seq:05d}", "BCT"),
    "bobcat_e35z": MachineModel("Bobcat", "E35z", C.MINI_EXCAVATOR, 18, "B4JY{seq:05d}", "BCT"),
    "bobcat_e19": MachineModel("Bobcat", "E19", C.MINI_EXCAVATOR, 11, "B4SL{seq:05d}", "BCT"),
    "kubota_kx057": MachineModel("Kubota", "KX057-5", C.MINI_EXCAVATOR, 34, "5{seq:05d}", "KBT"),
    "kubota_u27": MachineModel("Kubota", "U27-4", C.MINI_EXCAVATOR, 15, "2{seq:05d}", "KBT"),
    "kubota_kx019": MachineModel("Kubota", "KX019-4", C.MINI_EXCAVATOR, 11, "8{seq:05d}", "KBT"),
    "haulotte_ha16": MachineModel("Haulotte", "HA16 RTJ PRO", C.AERIAL_WORK_PLATFORM, 36, "AD{seq:06d}", "HAU"),
    "haulotte_ht23": MachineModel("Haulotte", "HT23 RTJ PRO", C.AERIAL_WORK_PLATFORM, 55, "AH{seq:06d}", "HAU"),
    "haulotte_compact12": MachineModel(
        "Haulotte", "Compact 12", C.AERIAL_WORK_PLATFORM, 4.5, "CE{seq:06d}", electric=True
    ),
    "haulotte_optimum8": MachineModel(
        "Haulotte", "Optimum 8", C.AERIAL_WORK_PLATFORM, 3.3, "CO{seq:06d}", electric=True
    ),
    "genie_gs1932": MachineModel("Genie", "GS-1932", C.AERIAL_WORK_PLATFORM, 3.3, "GS32P-{seq:06d}", electric=True),
    "genie_s65": MachineModel("Genie", "S-65", C.AERIAL_WORK_PLATFORM, 36, "S6015D-{seq:05d}", "GEN"),
    "jlg_450aj": MachineModel("JLG", "450AJ", C.AERIAL_WORK_PLATFORM, 36, "03000{seq:05d}", "JLG"),
    "jlg_1930es": MachineModel("JLG", "1930ES", C.AERIAL_WORK_PLATFORM, 3.3, "02001{seq:05d}", electric=True),
    "bomag_bw213": MachineModel("Bomag", "BW 213 D-5", C.ROLLER, 100, "101583{seq:05d}", "BOM"),
    "bomag_bw120": MachineModel("Bomag", "BW 120 AD-5", C.ROLLER, 23, "101880{seq:05d}", "BOM"),
    "hamm_h13i": MachineModel("Hamm", "H 13i", C.ROLLER, 116, "H2{seq:05d}", "HAM"),
    "thwaites_mach2090": MachineModel("Thwaites", "MACH 2090", C.DUMPER, 55, "SLCM{seq:05d}", "THW"),
    "wacker_dw60": MachineModel("Wacker Neuson", "DW60", C.DUMPER, 55, "WNCD{seq:05d}", "WNC"),
    "atlas_qas100": MachineModel("Atlas Copco", "QAS 100", C.GENERATOR, 84, "APF{seq:06d}"),
    "atlas_qas60": MachineModel("Atlas Copco", "QAS 60", C.GENERATOR, 50, "APG{seq:06d}"),
    "atlas_xas88": MachineModel("Atlas Copco", "XAS 88", C.COMPRESSOR, 34, "HOP{seq:06d}"),
    "kaeser_m50": MachineModel("Kaeser", "M50", C.COMPRESSOR, 34, "{seq:05d}"),
    "grove_gmk4100": MachineModel("Grove", "GMK4100L-1", C.CRANE, 330, "4100{seq:05d}", "GRV"),
    "merlo_p4017": MachineModel("Merlo", "P40.17", C.TELEHANDLER, 75, "ZF1{seq:05d}", "MER"),
    "bell_b30e": MachineModel("Bell", "B30E", C.ARTICULATED_HAULER, 220, "A{seq:06d}", "BEL", 28),
}
del C

#: The first machines of every demo, whatever its size, so that even a tiny fleet reports every metric:
#: (owner, model key). After these, machines are drawn from each owner's weighted catalogue below.
FIRST_MACHINES = (
    (RENTAL, "cat_320"),  # DEF, particulate filter
    (RENTAL, "manitou_mt1840"),  # odometer, peak speed
    (CONTRACTOR, "liebherr_ltm1060"),  # power take-off (crane superstructure)
    (RENTAL, "kubota_kx057"),
    (QUARRY, "volvo_l120"),  # load count, payload
    (RENTAL, "haulotte_compact12"),  # electric: no fuel
    (RENTAL, "jcb_3cx"),
    (CONTRACTOR, "komatsu_pc210"),
)

#: Who owns the next machine: mostly the rental company.
OWNER_PATTERN = (RENTAL, RENTAL, CONTRACTOR, RENTAL, QUARRY, RENTAL, RENTAL, CONTRACTOR, RENTAL, RENTAL)

#: What each organisation buys, with weights.
FLEET_MIX = {
    RENTAL: {
        "manitou_mt1840": 6,
        "manitou_mrt2470": 2,
        "manitou_mt625": 3,
        "jcb_540": 3,
        "jcb_535": 2,
        "merlo_p4017": 2,
        "kubota_kx057": 4,
        "kubota_u27": 4,
        "kubota_kx019": 3,
        "bobcat_e35z": 3,
        "bobcat_e19": 2,
        "volvo_ecr25": 2,
        "jcb_19c": 2,
        "cat_3027": 2,
        "cat_320": 3,
        "volvo_ec220": 2,
        "komatsu_pc210": 2,
        "jcb_3cx": 3,
        "jcb_4cx": 1,
        "bobcat_s650": 2,
        "bobcat_t770": 2,
        "cat_262": 1,
        "thwaites_mach2090": 2,
        "wacker_dw60": 2,
        "jcb_6t": 2,
        "haulotte_compact12": 4,
        "haulotte_optimum8": 3,
        "haulotte_ha16": 3,
        "haulotte_ht23": 2,
        "genie_gs1932": 3,
        "genie_s65": 2,
        "jlg_450aj": 2,
        "jlg_1930es": 2,
        "bomag_bw120": 2,
        "bomag_bw213": 1,
        "hamm_h13i": 1,
        "atlas_qas60": 2,
        "atlas_qas100": 2,
        "atlas_xas88": 2,
        "kaeser_m50": 1,
        "liebherr_ltm1060": 1,
    },
    CONTRACTOR: {
        "komatsu_pc210": 3,
        "komatsu_pc290": 1,
        "liebherr_r926": 2,
        "jcb_220x": 2,
        "cat_323": 1,
        "komatsu_pc55": 2,
        "jcb_3cx": 2,
        "cat_432": 1,
        "cat_cs56": 1,
        "bomag_bw213": 1,
        "liebherr_ltm1090": 1,
        "grove_gmk4100": 1,
        "liebherr_ltm1060": 1,
        "manitou_mrt2470": 1,
    },
    QUARRY: {
        "volvo_l120": 2,
        "cat_950": 2,
        "komatsu_wa380": 1,
        "liebherr_l556": 1,
        "volvo_a30": 2,
        "volvo_a40": 2,
        "cat_745": 1,
        "komatsu_hm400": 1,
        "bell_b30e": 1,
        "cat_d6": 1,
        "komatsu_d61": 1,
        "liebherr_pr736": 1,
        "liebherr_r926": 1,
        "atlas_qas100": 1,
    },
}

#: Years the machines were built, per owner (rental fleets are renewed more often).
YEARS = {RENTAL: (2018, 2025), CONTRACTOR: (2015, 2024), QUARRY: (2012, 2023)}

#: ISO 3779 model-year letters, for the PIN.
YEAR_LETTERS = dict(zip(range(2010, 2031), "ABCDEFGHJKLMNPRSTVWXY", strict=True))

# --- places ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    latitude: float
    longitude: float
    altitude: float
    workspace_of: str | None = None  # the organisation that has a workspace of this name, if any
    spread: float = 0.0008  # how far machines roam around the centre, in degrees (~90 m)
    depot: bool = False


SITES = {
    site.key: site
    for site in (
        Site("lyon_depot", "Lyon depot", 45.7131, 4.8823, 172, RENTAL, depot=True),
        Site("grenoble_depot", "Grenoble depot", 45.1580, 5.7262, 221, RENTAL, depot=True),
        Site("chambery_depot", "Chambéry depot", 45.5851, 5.9003, 268, RENTAL, depot=True),
        Site("part_dieu", "Part-Dieu tower site", 45.7606, 4.8597, 170, CONTRACTOR),
        Site("confluence", "Confluence housing site", 45.7391, 4.8171, 164, CONTRACTOR),
        Site("a480", "A480 widening, Grenoble", 45.1871, 5.7048, 212, CONTRACTOR, spread=0.004),
        Site("batiroc_yard", "Batiroc yard, Vaulx-en-Velin", 45.7785, 4.9301, 176, CONTRACTOR, depot=True),
        Site("north_pit", "North pit", 45.6421, 5.1352, 262, QUARRY, spread=0.004),
        Site("crushing_plant", "Crushing plant", 45.6381, 5.1421, 247, QUARRY, spread=0.0015),
        Site("quarry_workshop", "Quarry workshop", 45.6366, 5.1446, 245, QUARRY, depot=True),
        Site("villeurbanne_school", "Villeurbanne school extension", 45.7711, 4.8801, 168),
        Site("annecy_ring_road", "Annecy ring road", 45.9002, 6.1199, 452, spread=0.003),
        Site("valence_hub", "Valence logistics hub", 44.9331, 4.8921, 126, spread=0.002),
    )
}

#: Workspaces grouping machines by kind, besides the places.
RENTAL_GROUPS = {
    "Earthmoving": {"excavator", "mini_excavator", "wheel_loader", "skid_steer", "dumper", "backhoe_loader", "roller"},
    "Access & lifting": {"telehandler", "aerial_work_platform", "crane"},
    "Power & air": {"generator", "compressor"},
}

#: Where each owner's machines work: home sites (their workspace) and the sites they rotate through.
HOME_SITES = {
    RENTAL: ("lyon_depot", "grenoble_depot", "chambery_depot"),
    CONTRACTOR: ("part_dieu", "confluence", "a480"),
    QUARRY: ("north_pit", "crushing_plant"),
}
RENTAL_CUSTOMER_SITES = (
    "part_dieu",
    "confluence",
    "a480",
    "north_pit",
    "villeurbanne_school",
    "annecy_ring_road",
    "valence_hub",
)

# --- fault codes (SAE J1939 SPN-FMI) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    identifier: str
    description: str
    severity: str
    source: str
    needs: str = ""  # "", "fuel", "filter" (particulate filter), "def", "travel"


FAULTS = (
    Fault("110-0", "Engine coolant temperature: above normal, most severe", FaultSeverity.HIGH, "Engine #1", "fuel"),
    Fault("100-1", "Engine oil pressure: below normal, most severe", FaultSeverity.HIGH, "Engine #1", "fuel"),
    Fault("111-1", "Engine coolant level: below normal, most severe", FaultSeverity.HIGH, "Engine #1", "fuel"),
    Fault("97-15", "Water in fuel indicator: above normal, least severe", FaultSeverity.LOW, "Engine #1", "fuel"),
    Fault("94-1", "Engine fuel delivery pressure: below normal, most severe", FaultSeverity.HIGH, "Engine #1", "fuel"),
    Fault("174-0", "Engine fuel temperature: above normal, most severe", FaultSeverity.MEDIUM, "Engine #1", "fuel"),
    Fault(
        "105-0",
        "Engine intake manifold 1 temperature: above normal, most severe",
        FaultSeverity.MEDIUM,
        "Engine #1",
        "fuel",
    ),
    Fault("190-0", "Engine speed: above normal, most severe (overspeed)", FaultSeverity.HIGH, "Engine #1", "fuel"),
    Fault("1569-31", "Engine protection torque derate: condition exists", FaultSeverity.MEDIUM, "Engine #1", "fuel"),
    Fault("168-18", "Battery potential / power input 1: below normal, moderately severe", FaultSeverity.MEDIUM, "Body"),
    Fault("639-14", "J1939 network #1: special instructions", FaultSeverity.LOW, "Machine controller"),
    Fault("629-12", "Controller #1: bad intelligent device or component", FaultSeverity.HIGH, "Machine controller"),
    Fault(
        "3719-16",
        "Aftertreatment 1 diesel particulate filter soot load: above normal, moderately severe",
        FaultSeverity.MEDIUM,
        "Aftertreatment #1",
        "filter",
    ),
    Fault(
        "3251-0",
        "Aftertreatment 1 diesel particulate filter differential pressure: above normal, most severe",
        FaultSeverity.HIGH,
        "Aftertreatment #1",
        "filter",
    ),
    Fault(
        "1761-18",
        "Aftertreatment 1 diesel exhaust fluid tank level: below normal, moderately severe",
        FaultSeverity.MEDIUM,
        "Aftertreatment #1",
        "def",
    ),
    Fault(
        "4364-18",
        "Aftertreatment 1 SCR conversion efficiency: below normal, moderately severe",
        FaultSeverity.MEDIUM,
        "Aftertreatment #1",
        "def",
    ),
    Fault(
        "177-0",
        "Transmission oil temperature: above normal, most severe",
        FaultSeverity.MEDIUM,
        "Transmission #1",
        "travel",
    ),
    Fault(
        "127-1",
        "Transmission oil pressure: below normal, most severe",
        FaultSeverity.HIGH,
        "Transmission #1",
        "travel",
    ),
)
FAULTS_BY_ID = {fault.identifier: fault for fault in FAULTS}
