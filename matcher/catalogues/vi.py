"""The matcher's phrases in Vietnamese: explanations, reasons, warnings, match reasons.

One module per language of :data:`matcher.fields.LANGUAGES`, read by :mod:`matcher.messages`; a key
missing here is said in English. The web pages' own texts are in ``web/translations``.
"""

#: Sentence frames of explanations (:func:`matcher.messages.message`).
MESSAGES = {
    "head": "{score}/100 điểm, hạng {band} ({band_label})",
    "sector": "ngành {sector} ({tier}) {how}",
    "sector_unknown": "chưa rõ ngành (không có mã OKVED hoặc mô tả)",
    "from_code": "theo mã OKVED {evidence}",
    "from_declared": "theo doanh nghiệp tự khai",
    "from_text": "theo các từ: {evidence}",
    "from_default": "— chưa xác định được ngành: không có mã ngành hợp lệ và mô tả chưa đủ rõ",
    "strongest": "đóng góp lớn nhất: {items}",
    "missing": "còn thiếu: {items}",
    "improve": "cải thiện tốt nhất: {advice} (+{gain})",
    "nothing_to_improve": "không còn gì để cải thiện",
    "field_sector": "mã OKVED hoặc mô tả",
    "unknown_code": "{code} không phải là mã OKVED 2: không xác định được ngành từ mã này",
}

#: Why a value or row cannot be read, by reason code (:class:`matcher.messages.Reason`).
REASONS = {
    "name_required": "cần có tên doanh nghiệp",
    "commitment": "cần một trong: đã cam kết, dự kiến hoặc không (hoặc yes/no, да/нет, có/không)",
    "yesno": "cần có hoặc không (cũng được: yes/no, да/нет, true/false, 1/0)",
    "presence": "cần một trong: chưa có, văn phòng hoặc dự án",
    "money": "cần một số tiền USD, ví dụ 1500000, 1 500 000, 1.5m hoặc 2bn",
    "separators": "số có dấu phân cách đặt sai chỗ",
    "too_large": "số tiền quá lớn",
    "count": "cần một số nguyên, ví dụ 250",
    "okved": "không phải mã OKVED 2 / NACE Rev. 2 (ví dụ 62.01 hoặc 26.3)",
    "too_many_codes": "quá {limit} mã OKVED khác nhau: chỉ ghi tối đa {limit} mã",
    "too_long": "dài hơn {limit} ký tự ({actual}): văn bản dài hơn hãy tải lên dưới dạng tệp tại /batch",
    "row_empty": "dòng trống",
    "row_fields": "dòng có {actual} trường trong khi tiêu đề có {expected}",
    "row_quote": (
        'dòng có {actual} trường trong khi tiêu đề có {expected}: một dấu ngoặc kép (") mở trong dòng '
        "chưa được đóng, nên các dòng sau bị đọc vào dòng này"
    ),
    "unclosed_quote": "giá trị trong ngoặc kép chưa được đóng trước khi hết tệp (tệp bị cắt?)",
}

#: Warnings of a batch run (:func:`matcher.messages.warning`).
WARNINGS = {
    "ignored_columns": "{count} cột không được dùng để chấm điểm (giữ nguyên trong tệp kết quả): {columns}",
    "encoding_fallback": "bảng mã {encoding} không chứa được mọi ký tự của kết quả: tệp được ghi bằng UTF-8 có BOM",
    "stray_bytes": "tệp mã hóa UTF-8 trừ vài byte không hợp lệ: mỗi byte đó được đọc thành \ufffd (hãy tìm ký"
    " tự này trong kết quả)",
}

#: Frames of match reasons (:func:`matcher.match_text.phrase`).
PHRASES = {
    "none": "không có điểm chung",
    "or": " hoặc ",
    "sector_in": "ngành: {items}",
    "okved_in": "mã OKVED thuộc {items}",
    "location_in": "đặt tại: {items}",
    "investment_min_vnd": "vốn đầu tư từ {money}",
    "employees_min": "ít nhất {count} lao động",
    "commitment": "cam kết {field}",
    "confirm": "cần xác nhận: {text}",
    "unknown": "hồ sơ chưa có: {text}",
    "gap_investment_min_vnd": "đủ điều kiện nếu vốn đầu tư đạt {money}",
    "gap_employees_min": "đủ điều kiện nếu doanh nghiệp có ít nhất {count} lao động",
    "gap_commitment": "đủ điều kiện nếu cam kết {field}",
    "gap_location_in": "đủ điều kiện nếu dự án đặt tại: {items}",
    "gap_sector_in": "chỉ dành cho các ngành: {items}",
    "gap_okved_in": "chỉ dành cho mã OKVED {items}",
    "vnd": "{bn} tỷ đồng (khoảng {usd} triệu USD)",
    "qualifies": "có thể đủ điều kiện",
    "possible": "có thể: hồ sơ còn thiếu thông tin",
    "not_yet": "chưa đủ",
    "hi_tech_park": "khu công nghệ cao",
    "industrial_park": "khu công nghiệp",
    "digital_zone": "khu công nghệ số tập trung",
    "other": "nơi khác ở Hà Nội",
}
