from .bifpn import FRSKDBiFPN
from .self_teacher_neck import SelfTeacherNeck

__all__ = ['FRSKDBiFPN', 'SelfTeacherNeck']
