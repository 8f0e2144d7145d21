"""The subset of the national classification of large research instruments the platform starts with (data only;
loaded by migration 0003 and by `services.categories_sync`).

大型科学仪器设备分类 as the national sharing platform lists its classes (01 分析仪器 …) with two-digit subclasses.
The codes and names are from memory of that list and are NOT confirmed against the standard's text (see
shared/reference/instruments.md §6.2: its published number and status are unconfirmed); they are data, so an
administrator corrects or completes them without a deploy."""

CLASSES = [
    ("01", "分析仪器", "Analytical instruments"),
    ("02", "物理性能测试仪器", "Physical property testing instruments"),
    ("03", "计量仪器", "Metrology instruments"),
    ("04", "电子测量仪器", "Electronic measuring instruments"),
    ("08", "特种检测仪器", "Special inspection instruments"),
    ("09", "激光器", "Lasers"),
    ("10", "工艺试验仪器", "Process testing instruments"),
    ("11", "计算机及其配套设备", "Computers and peripherals"),
    ("13", "医学科研仪器", "Medical research instruments"),
]
SUBCLASSES = [
    ("0101", "质谱仪器", "Mass spectrometers"),
    ("0102", "X射线仪器", "X-ray instruments"),
    ("0103", "光谱仪器", "Spectrometers"),
    ("0104", "色谱仪器", "Chromatographs"),
    ("0105", "波谱仪器", "Magnetic resonance spectrometers"),
    ("0106", "电子光学仪器", "Electron optical instruments"),
    ("0107", "电化学仪器", "Electrochemical instruments"),
    ("0108", "显微镜及图像分析仪器", "Microscopes and image analysis"),
    ("0109", "热分析仪器", "Thermal analysis instruments"),
    ("0110", "生化分离分析仪器", "Biochemical separation and analysis"),
    ("0201", "力学性能测试仪器", "Mechanical property testers"),
    ("0202", "大地测量仪器", "Geodetic instruments"),
    ("0203", "光电测量仪器", "Photoelectric measuring instruments"),
    ("0301", "长度计量仪器", "Length metrology"),
    ("0401", "通用电子测量仪器", "General electronic measuring instruments"),
    ("0402", "射频和微波测试仪器", "RF and microwave test instruments"),
    ("0801", "无损探伤仪器", "Non-destructive testing instruments"),
    ("1001", "半导体工艺设备", "Semiconductor process equipment"),
    ("1101", "高性能计算设备", "High-performance computing"),
    ("1301", "医学影像设备", "Medical imaging research equipment"),
]
