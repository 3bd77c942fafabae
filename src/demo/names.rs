//! Word lists for synthetic names and places. Township names follow Sangzhi's; village names and
//! people are invented.

/// Common Chinese surnames, most frequent first.
pub const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭",
    "林", "何", "高", "梁", "郑", "罗", "宋", "谢", "唐", "韩", "曹", "许", "邓", "萧", "冯", "曾",
    "程", "蔡", "彭", "潘", "袁", "田", "向", "钟",
];

pub const GIVEN_MALE: [&str; 30] = [
    "伟", "强", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "斌", "国",
    "建", "文", "志", "德", "海", "林", "波", "宇", "浩", "俊", "峰", "生", "福", "春",
];

pub const GIVEN_FEMALE: [&str; 30] = [
    "芳", "娜", "敏", "静", "丽", "艳", "秀", "英", "霞", "玲", "桂", "兰", "梅", "琳", "婷", "雪",
    "慧", "红", "燕", "萍", "娟", "凤", "珍", "丹", "洁", "莉", "琴", "云", "月", "春",
];

pub const TOWNSHIPS: [&str; 23] = [
    "澧源",
    "瑞塔铺",
    "官地坪",
    "凉水口",
    "龙潭坪",
    "五道水",
    "陈家河",
    "廖家村",
    "利福塔",
    "走马坪",
    "洪家关",
    "刘家坪",
    "芙蓉桥",
    "沙塔坪",
    "人潮溪",
    "八大公山",
    "上河溪",
    "马合口",
    "桥自弯",
    "空壳树",
    "河口",
    "竹叶坪",
    "西莲",
];

pub const VILLAGE_FIRST: [&str; 24] = [
    "青", "石", "龙", "凤", "桃", "竹", "松", "柳", "杨", "马", "金", "银", "双", "三", "大", "小",
    "新", "长", "清", "白", "红", "黄", "高", "东",
];

pub const VILLAGE_SECOND: [&str; 12] = [
    "坪", "溪", "湾", "岗", "冲", "坡", "桥", "塘", "峪", "垭", "岩", "田",
];

/// The lead hospital's shared centres in the seeds (Sangzhi's nine business centres).
pub const CENTRES: [(&str, &str); 9] = [
    ("C-ECG", "超声心电诊断中心"),
    ("C-IMG", "放射诊断中心"),
    ("C-LAB", "医学检验中心"),
    ("C-PATH", "病理诊断中心"),
    ("C-CONS", "远程会诊中心"),
    ("C-EMS", "院前急救中心"),
    ("C-HM", "健康管理中心"),
    ("C-MCH", "妇女儿童管理中心"),
    ("C-CSSD", "消毒供应中心"),
];

pub const LEAD_DEPARTMENTS: [(&str, &str); 8] = [
    ("CARD", "心血管内科"),
    ("CPC", "胸痛中心"),
    ("ER", "急诊科"),
    ("NEUR", "神经内科"),
    ("SURG", "普外科"),
    ("OBGY", "妇产科"),
    ("PED", "儿科"),
    ("ICU", "重症医学科"),
];

pub const TOWNSHIP_DEPARTMENTS: [(&str, &str); 4] = [
    ("GP", "全科"),
    ("TCM", "中医科"),
    ("PH", "公共卫生科"),
    ("IP", "住院部"),
];

/// Share of the population in each five-year age band from 0–4 to 90+, shaped like a rural
/// county in central China (many middle-aged and elderly, fewer young adults who work away).
pub const AGE_BAND_WEIGHTS: [f64; 19] = [
    4.5, 5.5, 5.8, 5.0, 4.2, 4.5, 6.0, 6.0, 5.8, 7.5, 8.5, 8.0, 6.0, 6.5, 5.0, 3.3, 2.2, 1.2, 0.5,
];
