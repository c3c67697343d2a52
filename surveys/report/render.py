"""placeholder"""
def write_report(*a): pass
